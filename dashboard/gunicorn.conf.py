"""gunicorn settings for the demo dashboard: gunicorn -c gunicorn.conf.py app:server"""
import os

bind = os.environ.get("DASH_BIND", "127.0.0.1:8050")
workers = int(os.environ.get("DASH_WORKERS", "2"))
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("DASH_LOGLEVEL", "info")
# Make `app:server` importable even when gunicorn is started elsewhere.
chdir = os.path.dirname(os.path.abspath(__file__))
control_socket_disable = True  # several instances may run side by side (tests)
