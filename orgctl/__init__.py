"""orgctl: org-as-code for HR SaaS. Plan and apply an organisation described in YAML."""

__version__ = "0.1.0"
