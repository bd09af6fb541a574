"""Kubernetes components of the platform."""
