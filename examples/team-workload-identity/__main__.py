"""A team's Google service account for GKE Workload Identity, granted read on a shared bucket.

``TeamWorkloadIdentity`` registers the service account ``<team>-workload`` and lets the
Kubernetes service account ``<namespace>/<ksa>`` impersonate it (``roles/iam.workloadIdentityUser``
for ``serviceAccount:<project>.svc.id.goog[<namespace>/<ksa>]``). Whatever is granted to its
``account`` is what pods running as that Kubernetes service account get: here read access to an
existing bucket (a plain ``gcp.storage.BucketIAMMember``; with a ``GcsDataBucket`` use
``bucket.grant_read(identity.account)`` instead).

    mlplat preview --cwd examples/team-workload-identity --stack prod     # offline, no credentials
    pulumi preview --cwd examples/team-workload-identity --stack prod     # with the Pulumi CLI and GCP credentials
"""

import pulumi
import pulumi_gcp as gcp

from platform_lib.gcp.data_bucket import TeamWorkloadIdentity

config = pulumi.Config()
project = pulumi.Config("gcp").require("project")
team = config.require("team")

provider = gcp.Provider("gcp", project=project)
identity = TeamWorkloadIdentity(
    team,
    project=project,
    namespace=config.require("namespace"),
    kubernetes_service_account=config.require("kubernetesServiceAccount"),
    opts=pulumi.ResourceOptions(provider=provider),
)

dataset_reader = gcp.storage.BucketIAMMember(
    f"{team}-datasets-read",
    bucket=config.require("datasetBucket"),
    role="roles/storage.objectViewer",
    member=identity.account.member,
    opts=pulumi.ResourceOptions(provider=provider),
)

pulumi.export("serviceAccountEmail", identity.email)  # annotate the KSA: iam.gke.io/gcp-service-account
pulumi.export("kubernetesMember", identity.member)
