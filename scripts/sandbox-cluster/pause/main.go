// Command pause is the first process of every pod sandbox on the local cluster's real node.
//
// It holds the pod's namespaces open and does nothing else: it sleeps until SIGTERM or SIGINT
// and reaps children that the kernel reparents to it. Built as a static binary by
// scripts/build-sandbox-cluster and packed into the node's pod sandbox image, so no image is
// pulled from outside the machine.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	events := make(chan os.Signal, 16)
	signal.Notify(events, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for event := range events {
		if event != syscall.SIGCHLD {
			os.Exit(0)
		}
		reap()
	}
}

// reap collects every child that has exited, without blocking.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
