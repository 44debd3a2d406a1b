"""The ``exohub`` command line: composes the service, the science and the tools."""
