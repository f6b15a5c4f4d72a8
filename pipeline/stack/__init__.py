"""A local distributed stack, like docker-compose.yml's with the Celery profile, on 127.0.0.1 without
Docker: PostgreSQL, Redis, a three-node Elasticsearch cluster of the embedded node, and Airflow's API
server, scheduler, dag-processor, triggerer and two Celery workers (docs/scale-out.md).

    stack.py        Stack: up, status, down; start, stop, kill, restart one service
    environment.py  each Airflow service's environment and command: docker-compose.yml's, on loopback
    compose.py      reading and interpolating docker-compose.yml
    layout.py       the stack's folder, ports and secrets (stack.json)
    postgres.py     PostgreSQL as Airflow's metadata database, as an unprivileged user when root
    processes.py    starting processes, and killing every one a service started
    reaper.py       the watchdog that takes a stack down when its owner (a test session) dies
    api.py          a small client for Airflow's REST API
    errors.py       StackError

Submodules are imported directly (`from pipeline.stack.stack import Stack`); this package imports
nothing, so none of them pays for the others.
"""
