"""Running a rendered guide in a sandbox: the orchestration, the persistent shell, background
processes, HTTP calls, expectations, and the results with their reports (JUnit).
"""
