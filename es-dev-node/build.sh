#!/usr/bin/env bash
# Builds the embedded Elasticsearch dev node (target/es-dev-node.jar + target/lib/*), idempotently:
# skipped when the sources, pom.xml and the chosen JDK have not changed since the last build.
# Writes target/java-home, which pipeline/devnode.py uses to run the node with the same JDK.
#   JAVA_HOME=...   use this JDK (must be 21+; Elasticsearch 9 needs it)
#   MAVEN_ARGS=...  extra Maven arguments, e.g. -Dmaven.repo.local=/tmp/m2-cold
set -euo pipefail
cd "$(dirname "$0")"

MIN_JAVA=21

java_feature() {  # prints the feature version of "$1/bin/java", or nothing
    "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p'
}

show_log() {  # Maven's output without JDK 25's warnings about Maven's own use of sun.misc.Unsafe
    sed -e 's/\x1b\[[0-9;]*m//g' "$log" | grep -v -e '^$' -e 'sun\.misc\.Unsafe' -e 'WARNING: Please consider' \
        -e 'terminally deprecated' -e 'will be removed in a future release' >&2 || true
}

# Starts the node once and records the classes it loads into target/es-dev-node.jsa (a CDS archive), which
# roughly halves the CPU every later start needs. Optional: without it the node starts, only slower.
# The classpath and JVM flags here must match pipeline/devnode.py's (absolute paths; same GC).
train_class_data_sharing() {
    local here tmp pid i
    here=$(pwd -P)
    tmp=$(mktemp -d)
    rm -f target/es-dev-node.jsa.tmp
    "$JAVA_HOME/bin/java" -XX:ArchiveClassesAtExit=target/es-dev-node.jsa.tmp -Xms512m -Xmx512m -XX:+UseSerialGC \
        --enable-native-access=ALL-UNNAMED --add-modules=jdk.incubator.vector \
        -cp "$here/target/es-dev-node.jar:$here/target/lib/*" newswatch.esnode.DevNode \
        --data-dir "$tmp/node" --port 0 >"$tmp/train.log" 2>&1 &
    pid=$!
    for i in $(seq 1 240); do
        grep -q '^es-dev-node: started' "$tmp/train.log" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if [ -s target/es-dev-node.jsa.tmp ] && grep -q '^es-dev-node: started' "$tmp/train.log"; then
        mv -f target/es-dev-node.jsa.tmp target/es-dev-node.jsa
    else
        rm -f target/es-dev-node.jsa.tmp target/es-dev-node.jsa
        echo "es-dev-node/build.sh: note: no class-sharing archive (the training start failed; nodes start slower):" >&2
        tail -5 "$tmp/train.log" >&2
    fi
    rm -rf "$tmp"
}

pick_java_home() {
    local candidates=()
    [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
    candidates+=(/usr/lib/jvm/temurin-25-jdk-amd64)
    for d in /usr/lib/jvm/*; do candidates+=("$d"); done
    if command -v java >/dev/null 2>&1; then
        candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
    fi
    local c v
    for c in "${candidates[@]}"; do
        [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
        v=$(java_feature "$c")
        if [ -n "$v" ] && [ "$v" -ge "$MIN_JAVA" ]; then
            echo "$c"
            return 0
        fi
    done
    return 1
}

if ! JAVA_HOME=$(pick_java_home); then
    echo "es-dev-node/build.sh: no JDK $MIN_JAVA+ found (set JAVA_HOME); Elasticsearch 9 needs Java $MIN_JAVA or newer" >&2
    exit 1
fi
export JAVA_HOME
if ! command -v mvn >/dev/null 2>&1; then
    echo "es-dev-node/build.sh: Maven (mvn) is not installed" >&2
    exit 1
fi

stamp=target/.build-stamp
want=$( { cat pom.xml build.sh; find src -type f | LC_ALL=C sort | xargs cat; echo "$JAVA_HOME"; } | sha256sum | cut -d' ' -f1)
if [ -f target/es-dev-node.jar ] && [ -d target/lib ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    exit 0
fi

# Nodes that are running read jars from target/lib lazily, so a jar must never change under them. When the
# dependencies change, Maven copies them into target/lib.next, and only the jars that differ are swapped in
# (each by a rename) and the ones no longer needed removed; otherwise Maven leaves existing release jars alone.
sync_lib() {
    local jar name
    mkdir -p target/lib
    for jar in target/lib.next/*.jar; do
        name=$(basename "$jar")
        if ! cmp -s "$jar" "target/lib/$name"; then
            cp "$jar" "target/lib/.$name.tmp" && mv -f "target/lib/.$name.tmp" "target/lib/$name"
        fi
    done
    for jar in target/lib/*.jar; do
        [ -e "target/lib.next/$(basename "$jar")" ] || rm -f "$jar"
    done
    rm -rf target/lib.next
}

# The analysis plugin (newswatch.esnode.english) uses lucene-analysis-common at the version pom.xml names; it
# must be the Lucene that Elasticsearch itself runs on.
check_lucene() {
    local core analysis
    core=$(cd target/lib && ls lucene-core-*.jar | sed 's/^lucene-core-\(.*\)\.jar$/\1/')
    analysis=$(cd target/lib && ls lucene-analysis-common-*.jar | sed 's/^lucene-analysis-common-\(.*\)\.jar$/\1/')
    if [ "$core" != "$analysis" ]; then
        echo "es-dev-node/build.sh: lucene-analysis-common $analysis differs from the lucene-core $core that" \
            "Elasticsearch uses: set lucene.version in pom.xml to $core" >&2
        exit 1
    fi
}

echo "es-dev-node: building with $("$JAVA_HOME/bin/java" -version 2>&1 | head -1) (JAVA_HOME=$JAVA_HOME)"
start=$(date +%s)
pom_sum=$(sha256sum pom.xml | cut -d' ' -f1)
lib_args=()
if [ "$(cat target/.pom-stamp 2>/dev/null)" != "$pom_sum" ]; then
    rm -rf target/lib.next
    lib_args=(-Dlib.dir="$(pwd -P)/target/lib.next")
fi
rm -f "$stamp"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# shellcheck disable=SC2086
if ! mvn -q -B -Dstyle.color=never ${MAVEN_ARGS:-} "${lib_args[@]}" package >"$log" 2>&1; then
    show_log
    echo "es-dev-node/build.sh: Maven build failed" >&2
    exit 1
fi
show_log
cp target/jar/es-dev-node.jar target/.es-dev-node.jar.tmp && mv -f target/.es-dev-node.jar.tmp target/es-dev-node.jar
[ ${#lib_args[@]} -eq 0 ] || sync_lib
check_lucene
echo "$JAVA_HOME" > target/java-home
train_class_data_sharing
echo "$pom_sum" > target/.pom-stamp
echo "$want" > "$stamp"
echo "es-dev-node: built in $(( $(date +%s) - start ))s"
