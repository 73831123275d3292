"""The ``goldenpath`` command line: the parser, the command functions, the live check display and
the scheduler.
"""
