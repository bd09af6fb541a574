"""Kubernetes policies on every pod template and on RBAC.

Pod rules implement the Pod Security Standards (source: kubernetes.io/docs/concepts/security/
pod-security-standards, "Baseline" and "Restricted" tables; the control id names the field).
checkov ids from its Kubernetes policy index; CIS Kubernetes Benchmark v1.8 section 5.
"""

from __future__ import annotations

import json

from ...core.networks import covers_everything
from ...core.reserved_names import is_system_namespace, is_system_subject
from ...core.secrets import looks_secret
from ..catalogue import ADVISORY_BELOW_PROD, ADVISORY_IN_DEV, resource_policy
from ..helpers import SERVING_TYPES, WORKLOAD_TYPES, as_list, containers, get, pod_spec

ROLE_TYPES = ("kubernetes:rbac.authorization.k8s.io/v1:Role", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")
BINDING_TYPES = ("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
#: Namespaced kinds the platform creates; cluster-scoped kinds (Namespace, ClusterRole) are exempt.
NAMESPACED_TYPES = WORKLOAD_TYPES + (
    "kubernetes:core/v1:Service", "kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:Secret",
    "kubernetes:core/v1:ServiceAccount", "kubernetes:core/v1:PersistentVolumeClaim",
    "kubernetes:core/v1:ResourceQuota", "kubernetes:core/v1:LimitRange",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy", "kubernetes:networking.k8s.io/v1:Ingress",
    "kubernetes:policy/v1:PodDisruptionBudget", "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    "kubernetes:rbac.authorization.k8s.io/v1:Role", "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    "kubernetes:argoproj.io/v1alpha1:AnalysisTemplate",
)
NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
INGRESS_TYPE = "kubernetes:networking.k8s.io/v1:Ingress"
SERVICE_TYPE = "kubernetes:core/v1:Service"
NETWORK_POLICY_TYPE = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
ALLOWED_ADDED_CAPABILITIES = ("NET_BIND_SERVICE",)
#: Verbs that create an object or change one (a ClusterIP Service patched to type LoadBalancer).
WRITE_VERBS = ("create", "update", "patch", "*")
#: (API group, resource) pairs that publish a load balancer: an Ingress (the AWS Load Balancer
#: Controller makes an ALB of it) and a Service (type LoadBalancer makes an NLB/CLB; RBAC cannot
#: restrict the type). Sources: Kubernetes docs, "Ingress" and "Service", type LoadBalancer.
LOAD_BALANCER_RESOURCES = {("", "services"), ("networking.k8s.io", "ingresses"), ("extensions", "ingresses")}


def _pods(resource):
    spec = pod_spec(resource.type, resource.props)
    return spec if spec is not None else {}


def _is_root(user) -> bool:
    """Whether a ``runAsUser`` value is UID 0: an int, a float (numbers arrive as floats through the
    Analyzer protocol's Struct) or a numeric string; anything else is not a UID."""
    try:
        return user is not None and float(user) == 0
    except (TypeError, ValueError):
        return False


def _what(resource) -> str:
    return f"{resource.type.rsplit(':', 1)[-1]} '{resource.name}'"


@resource_policy(
    "k8s-run-as-non-root",
    description="Pods run as a non-root user: runAsNonRoot true on the pod or on every container, and no runAsUser 0.",
    severity="high",
    remediation="Set spec.securityContext.runAsNonRoot: true and a non-zero runAsUser; build the image with a non-root USER.",
    controls=("PSS restricted: spec.securityContext.runAsNonRoot", "PSS restricted: spec.securityContext.runAsUser", "CKV_K8S_23"),
    types=WORKLOAD_TYPES,
    tags=("kubernetes", "pss"),
)
def run_as_non_root(resource, config):
    spec = _pods(resource)
    pod_level = get(spec, "securityContext", "runAsNonRoot")
    pod_user = get(spec, "securityContext", "runAsUser")
    if _is_root(pod_user):
        yield f"{_what(resource)} sets spec.securityContext.runAsUser 0"
    for label, container in containers(spec):
        value = get(container, "securityContext", "runAsNonRoot", default=pod_level)
        if value is not True:
            yield f"{_what(resource)} {label} does not set runAsNonRoot: true"
        user = get(container, "securityContext", "runAsUser")
        if _is_root(user):
            yield f"{_what(resource)} {label} sets runAsUser 0"


@resource_policy(
    "k8s-no-privilege-escalation",
    description="Every container sets securityContext.allowPrivilegeEscalation: false.",
    severity="high",
    remediation="Set allowPrivilegeEscalation: false in each container's securityContext.",
    controls=("PSS restricted: containers[*].securityContext.allowPrivilegeEscalation", "CKV_K8S_20", "CIS Kubernetes 5.2.6"),
    types=WORKLOAD_TYPES,
    tags=("kubernetes", "pss"),
)
def no_privilege_escalation(resource, config):
    for label, container in containers(_pods(resource)):
        if get(container, "securityContext", "allowPrivilegeEscalation") is not False:
            yield f"{_what(resource)} {label} does not set allowPrivilegeEscalation: false"


@resource_policy(
    "k8s-drop-all-capabilities",
    description="Every container drops ALL capabilities and adds none but NET_BIND_SERVICE.",
    severity="high",
    remediation="Set securityContext.capabilities.drop: ['ALL'] and remove capabilities.add (NET_BIND_SERVICE is the only allowed one).",
    controls=("PSS restricted: containers[*].securityContext.capabilities.drop", "PSS restricted: containers[*].securityContext.capabilities.add", "CKV_K8S_28", "CKV_K8S_37"),
    types=WORKLOAD_TYPES,
    tags=("kubernetes", "pss"),
)
def drop_all_capabilities(resource, config):
    for label, container in containers(_pods(resource)):
        capabilities = get(container, "securityContext", "capabilities", default={})
        if "ALL" not in [str(c) for c in as_list(get(capabilities, "drop"))]:
            yield f"{_what(resource)} {label} does not drop ALL capabilities"
        added = [str(c) for c in as_list(get(capabilities, "add")) if str(c) not in ALLOWED_ADDED_CAPABILITIES]
        if added:
            yield f"{_what(resource)} {label} adds capabilities {', '.join(added)}"


@resource_policy(
    "k8s-seccomp-runtime-default",
    description="Pods use the RuntimeDefault (or a Localhost) seccomp profile, set on the pod or on every container.",
    severity="medium",
    remediation="Set spec.securityContext.seccompProfile.type: RuntimeDefault.",
    controls=("PSS restricted: spec.securityContext.seccompProfile.type", "CKV_K8S_31"),
    types=WORKLOAD_TYPES,
    tags=("kubernetes", "pss"),
)
def seccomp_runtime_default(resource, config):
    spec = _pods(resource)
    pod_profile = get(spec, "securityContext", "seccompProfile", "type")
    for label, container in containers(spec):
        profile = get(container, "securityContext", "seccompProfile", "type", default=pod_profile)
        if profile not in ("RuntimeDefault", "Localhost"):
            yield f"{_what(resource)} {label} has seccomp profile {profile or 'unset'}, not RuntimeDefault"


@resource_policy(
    "k8s-no-privileged-containers",
    description="No container runs privileged.",
    severity="critical",
    remediation="Remove securityContext.privileged (or set it false); request a device plugin resource (nvidia.com/gpu) instead.",
    controls=("PSS baseline: containers[*].securityContext.privileged", "CKV_K8S_16", "CIS Kubernetes 5.2.2"),
    types=WORKLOAD_TYPES,
    tags=("kubernetes", "pss"),
)
def no_privileged(resource, config):
    for label, container in containers(_pods(resource)):
        if get(container, "securityContext", "privileged") is True:
            yield f"{_what(resource)} {label} is privileged"


@resource_policy(
    "k8s-no-host-namespaces",
    description="Pods share no host namespace: hostNetwork, hostPID and hostIPC are not set.",
    severity="critical",
    remediation="Remove hostNetwork, hostPID and hostIPC from the pod spec.",
    controls=("PSS baseline: spec.hostNetwork, spec.hostPID, spec.hostIPC", "CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19"),
    types=WORKLOAD_TYPES,
    tags=("kubernetes", "pss"),
)
def no_host_namespaces(resource, config):
    spec = _pods(resource)
    shared = [key for key in ("hostNetwork", "hostPID", "hostIPC") if get(spec, key) is True]
    if shared:
        yield f"{_what(resource)} sets {', '.join(shared)}"


@resource_policy(
    "k8s-no-host-ports",
    description="No container port binds a host port.",
    severity="high",
    remediation="Remove hostPort; expose the pod through a Service.",
    controls=("PSS baseline: containers[*].ports[*].hostPort", "CKV_K8S_26"),
    types=WORKLOAD_TYPES,
    tags=("kubernetes", "pss"),
)
def no_host_ports(resource, config):
    for label, container in containers(_pods(resource)):
        ports = [int(p["hostPort"]) for p in as_list(get(container, "ports")) if get(p, "hostPort")]
        if ports:
            yield f"{_what(resource)} {label} binds host ports {', '.join(map(str, ports))}"


@resource_policy(
    "k8s-no-host-path-volumes",
    description="Pods mount no hostPath volume.",
    severity="high",
    remediation="Use a PersistentVolumeClaim, emptyDir, configMap or secret volume instead of hostPath.",
    controls=("PSS baseline: spec.volumes[*].hostPath", "CIS Kubernetes 5.2.12"),
    types=WORKLOAD_TYPES,
    tags=("kubernetes", "pss"),
)
def no_host_path(resource, config):
    for volume in as_list(get(_pods(resource), "volumes")):
        if get(volume, "hostPath"):
            yield f"{_what(resource)} volume {get(volume, 'name', default='?')} mounts hostPath {get(volume, 'hostPath', 'path', default='?')}"


@resource_policy(
    "k8s-no-plaintext-secret-env",
    description="No container has a plain-text value in an environment variable named like a credential (*PASSWORD*, *TOKEN*, *SECRET*, *KEY*).",
    severity="high",
    remediation="Keep the credential in a Kubernetes Secret and read it with env[].valueFrom.secretKeyRef "
                "(ModelEndpoint: env {NAME: {value_from: {secret_key_ref: {name, key}}}}); a plain value is stored in clear in the workload's spec.",
    controls=("CWE-312", "OWASP Kubernetes Top 10 K08: Secrets Management"),
    types=WORKLOAD_TYPES,
    tags=("kubernetes", "secrets"),
)
def no_plaintext_secret_env(resource, config):
    for label, container in containers(_pods(resource)):
        names = [str(get(variable, "name")) for variable in as_list(get(container, "env"))
                 if looks_secret(str(get(variable, "name", default=""))) and get(variable, "value") not in (None, "")]
        if names:  # the values are never echoed: they are the credentials
            yield f"{_what(resource)} {label} sets {', '.join(names)} in plain text, not from a Secret (valueFrom.secretKeyRef)"


@resource_policy(
    "k8s-requests-and-limits",
    description="Every container declares CPU and memory requests and CPU and memory limits.",
    severity="medium",
    remediation="Set resources.requests.cpu/memory and resources.limits.cpu/memory on each container (the namespace LimitRange is only a fallback).",
    controls=("CKV_K8S_10", "CKV_K8S_11", "CKV_K8S_12", "CKV_K8S_13"),
    types=WORKLOAD_TYPES,
    levels=ADVISORY_IN_DEV,
    tags=("kubernetes",),
)
def requests_and_limits(resource, config):
    for label, container in containers(_pods(resource)):
        missing = [f"{kind}.{key}" for kind in ("requests", "limits") for key in ("cpu", "memory")
                   if get(container, "resources", kind, key) in (None, "")]
        if missing:
            yield f"{_what(resource)} {label} has no {', '.join(missing)}"


@resource_policy(
    "k8s-readiness-probe",
    description="Every serving container (Deployment, StatefulSet, DaemonSet, Rollout, Pod) has a readiness probe.",
    severity="medium",
    remediation="Add readinessProbe (httpGet on the model server's health path, or tcpSocket) to each container.",
    controls=("CKV_K8S_9",),
    types=SERVING_TYPES,
    levels=ADVISORY_IN_DEV,
    tags=("kubernetes",),
)
def readiness_probe(resource, config):
    for label, container in containers(_pods(resource), include_init=False):
        if not get(container, "readinessProbe"):
            yield f"{_what(resource)} {label} has no readinessProbe"


def _image_tag(image: str) -> str | None:
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


@resource_policy(
    "k8s-image-not-latest",
    description="Every container image names an explicit tag other than 'latest' (or a digest).",
    severity="medium",
    remediation="Use an immutable release tag or a digest (image@sha256:...), never 'latest' or no tag.",
    controls=("CKV_K8S_14",),
    types=WORKLOAD_TYPES,
    tags=("kubernetes",),
)
def image_not_latest(resource, config):
    for label, container in containers(_pods(resource)):
        image = str(get(container, "image", default=""))
        if "@sha256:" in image:
            continue
        tag = _image_tag(image)
        if tag is None or tag == "latest":
            yield f"{_what(resource)} {label} image {image or '(none)'} is {'latest' if tag else 'untagged'}"


@resource_policy(
    "k8s-image-pinned-by-digest",
    description="Every container image is pinned by digest (image@sha256:...), so what runs is what was reviewed.",
    severity="low",
    remediation="Resolve the tag to its digest at build time and deploy 'registry/name:tag@sha256:<digest>'.",
    controls=("CKV_K8S_43",),
    types=WORKLOAD_TYPES,
    levels=ADVISORY_BELOW_PROD,
    tags=("kubernetes",),
)
def image_pinned_by_digest(resource, config):
    for label, container in containers(_pods(resource)):
        image = str(get(container, "image", default=""))
        if "@sha256:" not in image:
            yield f"{_what(resource)} {label} image {image or '(none)'} is not pinned by digest"


@resource_policy(
    "k8s-no-default-namespace",
    description="Namespaced Kubernetes objects name their namespace, and it is not 'default'.",
    severity="medium",
    remediation="Set metadata.namespace to the team's namespace (TeamNamespace's namespace_name output).",
    controls=("CKV_K8S_21", "CIS Kubernetes 5.7.4"),
    types=NAMESPACED_TYPES,
    tags=("kubernetes",),
)
def no_default_namespace(resource, config):
    namespace = get(resource.props, "metadata", "namespace")
    if namespace in (None, "", "default"):
        yield f"{_what(resource)} is in the {'default' if namespace == 'default' else 'unset (default)'} namespace"


@resource_policy(
    "k8s-rbac-no-wildcards",
    description="Roles and ClusterRoles use no '*' in apiGroups, resources or verbs.",
    severity="high",
    remediation="List the API groups, resources and verbs the subject needs (e.g. verbs get, list, watch).",
    controls=("CKV_K8S_49", "CIS Kubernetes 5.1.3"),
    types=ROLE_TYPES,
    tags=("kubernetes", "rbac"),
)
def rbac_no_wildcards(resource, config):
    for index, rule in enumerate(as_list(get(resource.props, "rules"))):
        wild = [key for key in ("apiGroups", "resources", "verbs", "nonResourceURLs") if "*" in [str(v) for v in as_list(get(rule, key))]]
        if wild:
            yield f"{_what(resource)} rules[{index}] uses '*' in {', '.join(wild)}"


@resource_policy(
    "k8s-no-cluster-admin-binding",
    description="No RoleBinding or ClusterRoleBinding grants cluster-admin, or binds the system:masters group.",
    severity="critical",
    remediation="Bind a namespaced Role (or the built-in 'edit' / 'view' ClusterRole through a RoleBinding) instead.",
    controls=("CIS Kubernetes 5.1.1",),
    types=BINDING_TYPES,
    tags=("kubernetes", "rbac"),
)
def no_cluster_admin_binding(resource, config):
    if get(resource.props, "roleRef", "name") == "cluster-admin":
        yield f"{_what(resource)} grants cluster-admin"
    for subject in as_list(get(resource.props, "subjects")):
        if get(subject, "kind") == "Group" and get(subject, "name") == "system:masters":
            yield f"{_what(resource)} binds the system:masters group"


@resource_policy(
    "k8s-no-system-subject-binding",
    description="No RoleBinding or ClusterRoleBinding binds a built-in 'system:' group or user (system:authenticated, system:serviceaccounts, system:unauthenticated...).",
    severity="critical",
    remediation="Bind the team's own group from the cluster's authenticator (mlplat:teams[*].identityGroup), or a named ServiceAccount (subject kind ServiceAccount).",
    controls=("Kubernetes docs: Using RBAC Authorization, Referring to subjects", "CIS Kubernetes 5.1.1"),
    types=BINDING_TYPES,
    tags=("kubernetes", "rbac"),
)
def no_system_subject_binding(resource, config):
    for subject in as_list(get(resource.props, "subjects")):
        kind, name = get(subject, "kind"), get(subject, "name")
        if kind in ("Group", "User") and is_system_subject(name):
            yield f"{_what(resource)} binds the built-in {str(kind).lower()} {name}"


@resource_policy(
    "k8s-no-system-namespace",
    description="The platform creates no namespace named kube-* and puts no object in kube-system, kube-public, kube-node-lease or any other kube-* namespace.",
    severity="high",
    remediation="Use the team's own namespace (TeamNamespace); kube-* namespaces are Kubernetes' own and run with privileges teams must not share.",
    controls=("Kubernetes docs: Namespaces, Initial namespaces", "CKV_K8S_21"),
    types=NAMESPACED_TYPES + (NAMESPACE_TYPE,),
    tags=("kubernetes",),
)
def no_system_namespace(resource, config):
    if resource.type == NAMESPACE_TYPE:
        name = get(resource.props, "metadata", "name")
        if is_system_namespace(name):
            yield f"Namespace '{resource.name}' is named {name}, a name reserved for Kubernetes"
        return
    namespace = get(resource.props, "metadata", "namespace")
    if is_system_namespace(namespace):
        yield f"{_what(resource)} is in the Kubernetes system namespace {namespace}"


@resource_policy(
    "k8s-network-policy-not-whole-internet",
    description="A NetworkPolicy's ipBlock ranges, taken together per direction, do not cover the whole IPv4 or IPv6 internet ('except' carve-outs do not narrow an allow-list of everything).",
    severity="high",
    remediation="List the ranges the pods need (the VPC's CIDR, an endpoint's subnet); 0.0.0.0/1 plus 128.0.0.0/1 is 0.0.0.0/0.",
    controls=("Kubernetes docs: Network Policies, ipBlock", "CIS Kubernetes 5.3.2"),
    types=(NETWORK_POLICY_TYPE,),
    tags=("kubernetes", "network"),
)
def network_policy_not_whole_internet(resource, config):
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        cidrs = [str(get(peer, "ipBlock", "cidr")) for rule in as_list(get(resource.props, "spec", direction))
                 for peer in as_list(get(rule, peers_key)) if get(peer, "ipBlock", "cidr")]
        everything = covers_everything(cidrs)
        if everything:
            yield f"{_what(resource)} {direction} admits all of {', '.join(everything)} (ipBlocks {', '.join(cidrs)})"


@resource_policy(
    "k8s-role-no-load-balancer-write",
    description="No Role or ClusterRole lets its subjects create, update or patch Services or Ingresses: load balancers are published through ModelEndpoint, which the gate reviews.",
    severity="high",
    remediation="Grant get, list and watch on services and ingresses; expose workloads through platform_lib's ModelEndpoint (mlplat:endpoints).",
    controls=("Kubernetes docs: Using RBAC Authorization", "CIS Kubernetes 5.1.3"),
    types=ROLE_TYPES,
    tags=("kubernetes", "rbac"),
)
def role_no_load_balancer_write(resource, config):
    for index, rule in enumerate(as_list(get(resource.props, "rules"))):
        verbs = [str(v) for v in as_list(get(rule, "verbs")) if str(v) in WRITE_VERBS]
        if not verbs:
            continue
        groups, names = [str(g) for g in as_list(get(rule, "apiGroups"))], [str(r) for r in as_list(get(rule, "resources"))]
        granted = sorted({name for group, name in LOAD_BALANCER_RESOURCES
                          if (group in groups or "*" in groups) and (name in names or "*" in names)})
        if granted:
            yield f"{_what(resource)} rules[{index}] allows {', '.join(verbs)} on {', '.join(granted)}"


#: AWS Load Balancer Controller annotations (source: kubernetes-sigs.github.io/aws-load-balancer-controller,
#: "Ingress annotations" and "Service annotations"; ``listen-ports`` defaults to HTTP 80, or HTTPS
#: 443 when a certificate is given). The legacy in-tree AWS cloud provider makes a Service of type
#: LoadBalancer internet-facing unless ``aws-load-balancer-internal`` is set, and so do most clouds.
_ALB = "alb.ingress.kubernetes.io/"
_SERVICE_LB = "service.beta.kubernetes.io/"


def _annotations(resource) -> dict[str, str]:
    return {str(k): str(v) for k, v in dict(get(resource.props, "metadata", "annotations", default={})).items()}


def _listen_protocols(annotations: dict[str, str], has_certificate: bool) -> set[str]:
    raw = annotations.get(f"{_ALB}listen-ports")
    if raw is None:
        return {"HTTPS"} if has_certificate else {"HTTP"}
    try:
        ports = json.loads(raw)
    except ValueError:
        return {"HTTP"}  # unreadable: the controller refuses it, the gate assumes the worst
    return {str(key).upper() for entry in as_list(ports) if isinstance(entry, dict) for key in entry}


def _ingress_tls_gaps(resource) -> list[str]:
    annotations = _annotations(resource)
    if annotations.get(f"{_ALB}scheme") != "internet-facing":
        return []
    has_certificate = bool(annotations.get(f"{_ALB}certificate-arn")) or bool(as_list(get(resource.props, "spec", "tls")))
    if not has_certificate:
        return ["has no certificate (alb.ingress.kubernetes.io/certificate-arn or spec.tls)"]
    if "HTTP" in _listen_protocols(annotations, has_certificate) and annotations.get(f"{_ALB}ssl-redirect") is None:
        return ["listens on plain HTTP without alb.ingress.kubernetes.io/ssl-redirect"]
    return []


def _service_tls_gaps(resource) -> list[str]:
    if get(resource.props, "spec", "type") != "LoadBalancer":
        return []
    annotations = _annotations(resource)
    scheme = annotations.get(f"{_SERVICE_LB}aws-load-balancer-scheme")
    internal = scheme == "internal" or (scheme is None and annotations.get(f"{_SERVICE_LB}aws-load-balancer-internal", "").lower() in ("true", "0.0.0.0/0"))
    if internal or annotations.get(f"{_SERVICE_LB}aws-load-balancer-ssl-cert"):
        return []
    return ["has no certificate (service.beta.kubernetes.io/aws-load-balancer-ssl-cert)"]


@resource_policy(
    "k8s-internet-facing-load-balancer-tls",
    description="An internet-facing load balancer serves TLS only: an Ingress with alb.ingress.kubernetes.io/scheme internet-facing has a certificate "
                "and no plain HTTP listener (or redirects it), and a Service of type LoadBalancer that is not internal has a certificate.",
    severity="high",
    remediation="Give the endpoint a certificate (mlplat:endpoints[*].exposure.certificateArn, an ACM certificate ARN): ModelEndpoint then listens on HTTPS 443 only.",
    controls=("AWS FSBP ELB.1", "CKV_AWS_2", "CKV_AWS_103"),
    types=(INGRESS_TYPE, SERVICE_TYPE),
    levels=ADVISORY_IN_DEV,
    tags=("kubernetes", "network"),
)
def internet_facing_load_balancer_tls(resource, config):
    gaps = _ingress_tls_gaps(resource) if resource.type == INGRESS_TYPE else _service_tls_gaps(resource)
    for gap in gaps:
        yield f"{_what(resource)} is an internet-facing load balancer that {gap}"
