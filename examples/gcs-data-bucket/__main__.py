"""A team's training-data bucket on Cloud Storage, read by the team's GKE workloads.

- ``TeamWorkloadIdentity`` ``fraud``: a Google service account that the Kubernetes service
  account ``fraud/trainer`` impersonates (GKE Workload Identity);
- ``GcsDataBucket`` ``fraud-training-data``: uniform bucket-level access, public access
  prevention enforced, versioning, lifecycle rules, soft delete; in prod a customer-managed key;
- the workload's service account may read the whole bucket; the data engineers' group may read
  and write under ``raw/`` (a conditional IAM binding).

Every resource goes through the explicit ``gcp.Provider`` passed in ``opts``.

    mlplat preview --cwd examples/gcs-data-bucket --stack prod     # offline, no credentials
    pulumi preview --cwd examples/gcs-data-bucket --stack prod     # with the Pulumi CLI and GCP credentials
"""

import pulumi
import pulumi_gcp as gcp

from platform_lib.gcp.data_bucket import GcsDataBucket, TeamWorkloadIdentity

config = pulumi.Config()
project = pulumi.Config("gcp").require("project")
team = config.require("team")
environment = config.require("environment")
labels = {"team": team, "cost-center": config.require("costCenter"), "environment": environment}

provider = gcp.Provider("gcp", project=project, region=pulumi.Config("gcp").require("region"))
production = environment == "prod"
workloads = TeamWorkloadIdentity(
    team, project=project, namespace=team, kubernetes_service_account="trainer", opts=pulumi.ResourceOptions(provider=provider)
)
# The bucket is stateful: protected in prod, and kept in GCP if it leaves the program.
training_data = GcsDataBucket(
    f"{team}-training-data",
    location=config.require("location"),
    labels=labels,
    kms_key_name=config.get("kmsKeyName"),
    opts=pulumi.ResourceOptions(provider=provider, protect=production, retain_on_delete=production),
)

training_data.grant_read(workloads.account)
training_data.grant_read_write(f"group:{team}-data-engineers@example.com", prefix="raw/")

pulumi.export("bucketName", training_data.bucket_name)
pulumi.export("bucketUrl", training_data.url)
# Annotate the Kubernetes service account with it: iam.gke.io/gcp-service-account: <email>
pulumi.export("workloadServiceAccountEmail", workloads.email)
