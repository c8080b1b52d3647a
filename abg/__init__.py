"""The launcher: the `abg` command, the list of services, and the processes of `abg run`.

It sits above services/ and gateway/ and is the only code that knows every service; shared/
knows none of them.
"""
