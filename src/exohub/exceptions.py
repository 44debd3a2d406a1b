"""The errors exohub raises, under one root so callers can catch exohub's own problems."""


class ExohubError(Exception):
    """Root of every error exohub raises on purpose."""


class ValidationError(ExohubError):
    """A data object or a request does not match exohub's conventions."""


class SafetyViolation(ExohubError):  # noqa: N818 - the established name in the control literature
    """A safety limit was breached; the safe state has already been commanded."""


class ConfigurationError(ExohubError):
    """The platform is configured in a way that is unsafe or cannot work."""


class ExohubWarning(UserWarning):
    """Suspicious but valid input (an unusual sampling rate, many rejected strides): the result may be poor."""
