#!/usr/bin/env bash
# One-shot job in the Elasticsearch image (docker-compose.yml service `es-certs`): creates a private CA and
# a TLS certificate for the `elasticsearch` service, once, on the es-certs volume, and publishes the CA
# certificate (only) on the es-ca volume for clients. Re-running is a no-op;
# delete the volume to rotate (README, "Deploy with Docker Compose"). Extra DNS names for the certificate: ES_CERT_EXTRA_DNS
# (comma-separated), e.g. the host name clients outside Docker use.
set -euo pipefail
es_home="${ES_HOME:-/usr/share/elasticsearch}"
cd "$es_home"
certs=config/certs

# certutil --pem writes zip files; use whichever extractor this image has
extract() {
    if command -v unzip >/dev/null 2>&1; then
        unzip -o -q "$1" -d "$2"
    elif command -v python3 >/dev/null 2>&1; then
        python3 -m zipfile -e "$1" "$2"
    else
        (cd "$2" && "$es_home/jdk/bin/jar" xf "$OLDPWD/$1")
    fi
}

if [ ! -f "$certs/ca/ca.crt" ]; then
    echo "es-certs: creating the certificate authority"
    bin/elasticsearch-certutil ca --silent --pem --days 3650 -out "$certs/ca.zip"
    extract "$certs/ca.zip" "$certs"
    rm -f "$certs/ca.zip"
fi

if [ ! -f "$certs/elasticsearch/elasticsearch.crt" ]; then
    echo "es-certs: creating the certificate for elasticsearch"
    {
        echo "instances:"
        echo "  - name: elasticsearch"
        echo "    dns:"
        echo "      - elasticsearch"
        echo "      - localhost"
        IFS=',' read -r -a extra <<< "${ES_CERT_EXTRA_DNS:-}"
        for name in "${extra[@]}"; do
            name="${name// /}"
            if [ -n "$name" ]; then echo "      - $name"; fi
        done
        echo "    ip:"
        echo "      - 127.0.0.1"
    } > "$certs/instances.yml"
    bin/elasticsearch-certutil cert --silent --pem --days 1095 -out "$certs/certs.zip" \
        --in "$certs/instances.yml" --ca-cert "$certs/ca/ca.crt" --ca-key "$certs/ca/ca.key"
    extract "$certs/certs.zip" "$certs"
    rm -f "$certs/certs.zip"
fi

# Node key and certificate: readable by group 0 (the Elasticsearch user, uid 1000, has gid 0); the CA key
# by root only. Clients (Kibana, Airflow, the setup jobs) get just the CA certificate, on its own volume.
if [ "$(id -u)" = 0 ]; then
    chown -R root:root "$certs"
fi
find "$certs" -type d -exec chmod 750 {} \;
find "$certs" -type f -exec chmod 640 {} \;
chmod 600 "$certs/ca/ca.key"

public=config/ca-public
mkdir -p "$public"
cp "$certs/ca/ca.crt" "$public/ca.crt"
chmod 755 "$public"
chmod 644 "$public/ca.crt"
echo "es-certs: ok"
