"""Dashboards and reports: Grafana dashboards as code, and reports beside Grafana."""
