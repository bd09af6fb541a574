"""The pack's checks, one module per area; importing this package registers them all."""

from . import aws_s3, aws_iam, aws_ec2, aws_cloudfront, gcp_compute, gcp_gke, kubernetes, tags, cost, stack  # noqa: F401
