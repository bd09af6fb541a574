"""The credential-free preview: run a Pulumi program under mocked providers and record its plan."""

from .engine import PreviewError, run_preview, run_program
from .plan import Plan, PlannedResource, ResourceOptionsRecord
from .project import ProjectError, load_stack

__all__ = ["Plan", "PlannedResource", "PreviewError", "ProjectError", "ResourceOptionsRecord", "load_stack", "run_preview", "run_program"]
