"""Google Cloud components: the GCS data bucket and the GCE GPU training box."""
