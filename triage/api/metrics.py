"""Prometheus metrics. Under gunicorn with ``PROMETHEUS_MULTIPROC_DIR`` set, each worker
writes its counters to that folder and a scrape adds them up; queue depth is read from
the case store at scrape time, so it is right whichever worker answers."""
from __future__ import annotations

import os
from typing import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

LATENCY_BUCKETS = (.001, .0025, .005, .0075, .01, .015, .025, .05, .1, .25, .5, 1, 2.5)


class Metrics:
    """The service's metrics in a registry of their own (one per app, so tests can make many)."""

    def __init__(self, queue_depth: Callable[[], list[tuple[str, str, int]]]):
        self.registry = CollectorRegistry()
        self.requests = Counter("triage_http_requests", "HTTP requests by endpoint, method and status.",
                                ["endpoint", "method", "status"], registry=self.registry)
        self.latency = Histogram("triage_http_request_seconds", "Time to answer, by endpoint.",
                                 ["endpoint"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.predictions = Counter("triage_predictions", "Predictions by head, label and decision band.",
                                   ["head", "label", "band"], registry=self.registry)
        self.queue_depth = queue_depth

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, method, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)

    def observe_results(self, results: list[dict]) -> None:
        for result in results:
            if result.get("status") != "ok":
                self.predictions.labels("status", result.get("status", "unknown"), "review").inc()
                continue
            for head in ("category", "department", "urgency"):
                if result.get(head):
                    self.predictions.labels(head, result[head]["label"], result[head]["band"]).inc()

    def exposition(self) -> bytes:
        """The text format of every metric, all workers added up when running multi-process."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
        else:
            registry = self.registry
        text = generate_latest(registry)
        return text + generate_latest(_QueueDepth(self.queue_depth))


class _QueueDepth:
    def __init__(self, read):
        self.read = read

    def collect(self):
        gauge = GaugeMetricFamily("triage_queue_depth", "Open cases by department and urgency.",
                                  labels=["department", "urgency"])
        for department, urgency, count in self.read():
            gauge.add_metric([department, urgency], count)
        yield gauge
