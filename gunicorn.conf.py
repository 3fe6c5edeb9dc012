"""Production serving: gunicorn -c gunicorn.conf.py 'service:create_app()'

The app (and so the model, about 120 MB) is loaded once in the master and shared by the
forked workers. SIGHUP to the master loads the model folder again in the master; only if it
verifies does gunicorn replace the workers, which then fork with the new model. A worker
that receives POST /v1/admin/reload verifies the model itself and then asks the master to
do the same, so every worker ends on one model.
"""
import multiprocessing
import os
import shutil
import signal
import tempfile

bind = os.environ.get("TRIAGE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("TRIAGE_WORKERS", multiprocessing.cpu_count()))
worker_class = "sync"          # the work is CPU-bound; threads would only share one GIL
preload_app = True
keepalive = 5
timeout = 30
accesslog = None               # the app logs each request as JSON, with its request id
# Counters of every worker are added up at scrape time (prometheus-client multi-process mode)
# in the folder PROMETHEUS_MULTIPROC_DIR names; without one, in a folder made here and removed
# when gunicorn exits (named in the environment too: a SIGHUP reads this file again).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.environ["TRIAGE_MADE_METRICS_DIR"] = \
        tempfile.mkdtemp(prefix="triage-metrics-")


def on_reload(arbiter):
    slot = arbiter.app.wsgi().extensions["triage"].slot
    try:
        slot.reload()
        arbiter.log.info("model %s loaded; replacing workers", slot.metadata["version"])
    except Exception as error:  # keep serving the old model; gunicorn restarts workers from it
        arbiter.log.error("model reload refused, still serving %s: %s", slot.metadata["version"], error)


def post_worker_init(worker):
    master = os.getppid()
    worker.wsgi.extensions["triage"].slot.after_reload = lambda: os.kill(master, signal.SIGHUP)


def child_exit(server, worker):
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    made = os.environ.get("TRIAGE_MADE_METRICS_DIR")
    if made and made == os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(made, ignore_errors=True)
