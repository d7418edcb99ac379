"""maildaemon: the bookkeeping of a support team's triage duty, done by a daemon.

Pipeline: source -> parse -> apply -> store -> policy -> render -> outbox -> send.
"""
__version__ = "0.1.0"
