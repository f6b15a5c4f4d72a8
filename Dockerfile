# newswatch on the official Apache Airflow image, with exactly the dependencies of local development.
#
# The base tag must match the lock: apache-airflow==3.3.2 and Python 3.11 (tests/unit/test_compose_files.py
# checks both). The image already ships apache-airflow 3.3.2, so pip keeps it ("already satisfied") and
# installs the other locked versions over the image's own, without resolving anything (--no-deps) and
# only from files whose hashes are in the lock (--require-hashes). The providers the stack runs on (FAB,
# Celery, Postgres, Redis) are in the lock too, so they are resolved together with everything else.
# deploy/check_lock.py then proves every locked distribution is installed at its locked version, and that
# nothing the stack imports has a broken requirement.
#
# Build (docker compose does it for you): docker build -t newswatch-airflow:dev .
# The lock is resolved for linux/x86_64 (amd64).
FROM apache/airflow:3.3.2-python3.11

# The editable install writes its metadata into /opt/newswatch, and named volumes copy ownership from the
# image on first use: both directories belong to the airflow user (uid 50000, gid 0).
USER root
RUN mkdir -p /opt/newswatch /opt/airflow/newswatch-data \
    && chown airflow:root /opt/newswatch /opt/airflow/newswatch-data
USER airflow
WORKDIR /opt/newswatch

# 1. Locked dependencies first: this layer is rebuilt only when the lock changes.
COPY --chown=airflow:root requirements.lock ./
# (env -u: should the base image ever set a pip constraints file, the lock still decides)
RUN env -u PIP_CONSTRAINT pip install --no-cache-dir --disable-pip-version-check --require-hashes --no-deps \
        -r requirements.lock

# 2. The project itself, editable as in scripts/setup, so paths under /opt/newswatch (seeds/, kibana/)
#    resolve exactly as they do in a checkout.
COPY --chown=airflow:root pyproject.toml README.md ./
COPY --chown=airflow:root pipeline/ pipeline/
COPY --chown=airflow:root simulator/ simulator/
COPY --chown=airflow:root deploy/ deploy/
RUN env -u PIP_CONSTRAINT pip install --no-cache-dir --disable-pip-version-check --no-deps --no-build-isolation -e . \
    && python deploy/check_lock.py requirements.lock --pip-check

# 3. What Airflow loads, and the assets the setup job imports.
COPY --chown=airflow:root dags/ dags/
COPY --chown=airflow:root plugins/ plugins/
COPY --chown=airflow:root kibana/ kibana/
COPY --chown=airflow:root seeds/ seeds/

# mount point of the es-ca volume (the CA certificate only)
RUN mkdir -p /opt/newswatch/certs

ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/newswatch/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/newswatch/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    NEWSWATCH_DATA_DIR=/opt/airflow/newswatch-data \
    NEWSWATCH_FEEDS_FILE=/opt/newswatch/seeds/feeds.yaml
