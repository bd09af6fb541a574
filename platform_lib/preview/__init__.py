"""The credential-free preview: run a Pulumi program under mocked providers and record its plan."""

from .engine import PreviewError, run_preview, run_program
from .many import ManyResult, PreviewTarget, StackResult, preview_many
from .plan import Plan, PlannedResource, ResourceOptionsRecord
from .project import ProjectError, load_stack

__all__ = ["ManyResult", "Plan", "PlannedResource", "PreviewError", "PreviewTarget", "ProjectError", "ResourceOptionsRecord", "StackResult",
           "load_stack", "preview_many", "run_preview", "run_program"]
