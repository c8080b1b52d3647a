"""Serving the gateway: one worker process, or a supervisor of several on one port
(supervisor.py, sockets.py), each able to switch to a new supergraph in place (reload.py)."""
