"""The launcher: the `abg` command, the list of services, the processes of `abg run`
and the demo partner processes (abg/demo).

It sits above services/ and gateway/ and is the only code that knows every service; shared/
knows none of them.
"""
