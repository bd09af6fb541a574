"""AWS components of the platform."""
