"""exohub: exoskeleton sensors, real-time assistance, clinics and shared gait models in one platform."""

__version__ = "0.1.0"
