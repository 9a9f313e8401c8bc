# Sourced by scripts/test and scripts/bench: installs PostgreSQL if missing, starts a throwaway server
# in its own folder on 127.0.0.1:$PGPORT and stops it (and removes it) when the script exits.
# Set PUENTE_PG_DURABLE=1 to keep PostgreSQL's default durability (fsync on), as a benchmark should.
# Set PUENTE_PG_TLS=1 to serve TLS with a certificate from a throwaway CA made for the run; its CA
# certificate is then $PGROOT/tls/ca.pem (and $PGROOT/tls/other-ca.pem a CA that signed nothing).

install_missing() {
    local need=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
    if [ ${#need[@]} -gt 0 ]; then
        echo "Installing ${need[*]} …"
        local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    fi
}

start_throwaway_postgres() {
    install_missing postgresql
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    PGROOT=$(mktemp -d /tmp/puente-pg.XXXXXX)
    PGRUN=()
    if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$PGROOT"; PGRUN=(runuser -u postgres --); fi
    local options="-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGROOT"
    # A test server keeps little write-ahead log (the default lets it grow to 1 GB).
    [ "${PUENTE_PG_DURABLE:-0}" = 1 ] || options="$options -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
-c max_wal_size=64MB -c min_wal_size=32MB"
    if [ "${PUENTE_PG_TLS:-0}" = 1 ]; then
        install_missing openssl
        local tls="$PGROOT/tls"
        mkdir -p "$tls"
        openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tls/ca.key" -out "$tls/ca.pem" -days 2 \
            -subj "/CN=Puente throwaway CA" 2>/dev/null
        openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tls/other-ca.key" -out "$tls/other-ca.pem" -days 2 \
            -subj "/CN=Another throwaway CA" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -keyout "$tls/server.key" -out "$tls/server.csr" -subj "/CN=localhost" 2>/dev/null
        printf "subjectAltName=IP:127.0.0.1,DNS:localhost\n" > "$tls/san.ext"
        openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
            -out "$tls/server.pem" -days 2 -extfile "$tls/san.ext" 2>/dev/null
        chmod 600 "$tls/server.key"
        if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$tls"; fi
        options="$options -c ssl=on -c ssl_cert_file=$tls/server.pem -c ssl_key_file=$tls/server.key"
    fi
    "${PGRUN[@]}" "$PGBIN/initdb" -D "$PGROOT/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    # Kept for a test that stops the server and starts it again (tests/faults/pg_outage.py).
    PG_SERVER_OPTIONS="$options"
    "${PGRUN[@]}" "$PGBIN/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/server.log" -w -t 60 -o "$options" start >/dev/null
    trap stop_throwaway_postgres EXIT
    echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT (throwaway)"
}

# Drops the databases the Swift tests made (one per store, named puente_test_…).
drop_test_databases() {
    "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -Atq \
        -c "SELECT datname FROM pg_database WHERE datname LIKE 'puente\_test\_%'" |
        while read -r database; do "$PGBIN/dropdb" -h 127.0.0.1 -p "$PGPORT" -U postgres "$database"; done
}

stop_throwaway_postgres() {
    "${PGRUN[@]}" "$PGBIN/pg_ctl" -D "$PGROOT/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PGROOT"
}
