"""A team's Pulumi project: a GPU training box on Compute Engine that may read its team's data bucket.

Preview it offline:  ``mlplat preview --cwd examples/gcp-gpu-training-box --stack dev``
Deploy it:           ``pulumi up --cwd examples/gcp-gpu-training-box --stack dev`` (GCP credentials needed)

The VM goes into the team's existing subnetwork (config ``subnetwork``; reach the internet
through Cloud NAT). Connect with ``gcloud compute ssh --tunnel-through-iap``: OS Login, no
external IP.
"""

import pulumi

from platform_lib import GcpGpuTrainingBox, GcsDataBucket

config = pulumi.Config()
stack = pulumi.get_stack()
production = stack == "prod"
labels = {"team": config.require("team"), "cost-center": config.require("costCenter"), "environment": stack}

box = GcpGpuTrainingBox(
    "finetune",
    machine_type=config.require("machineType"),
    zone=config.require("zone"),
    subnetwork=config.require("subnetwork"),
    labels=labels,
    spot=config.get_bool("spot") or False,
    max_run_hours=config.get_int("maxRunHours") or 0,
    deletion_protection=production,
    # In prod, every child of the box (its data disk included) is protected and retained.
    opts=pulumi.ResourceOptions(protect=production, retain_on_delete=production),
)


def features_bucket() -> GcsDataBucket:
    """The team's GCS data bucket (uniform access, versioned)."""
    return GcsDataBucket(f"{labels['team']}-features-{stack}-example", location=pulumi.Config("gcp").require("region"), labels=labels)


bucket = features_bucket()
bucket.grant_read(box.service_account, prefix="features/")

pulumi.export("instanceName", box.instance_name)
pulumi.export("serviceAccountEmail", box.service_account_email)
pulumi.export("bucketName", bucket.bucket_name)
