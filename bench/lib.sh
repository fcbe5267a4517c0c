# Shared by the benchmark scripts (after tests/lib/topology.sh).

# qb_nginx_up PORT: nginx on 127.0.0.1:PORT, a 100-byte page, no keep-alive, no log
# (the benchmarks' HTTP/1.0 peer: it must not be the limit, see doc/DESIGN.md).
qb_nginx_up() {
	local port=$1
	local dir=$QB_WORK/nginx
	mkdir -p "$dir/www"
	head -c 100 /dev/zero | tr '\0' x > "$dir/www/index.html"
	cat > "$dir/nginx.conf" <<-EOF
		worker_processes 1;
		daemon off;
		error_log $dir/error.log;
		pid $dir/nginx.pid;
		events { worker_connections 4096; }
		http {
			access_log off;
			client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir;
			uwsgi_temp_path $dir; scgi_temp_path $dir;
			server { listen 127.0.0.1:$port backlog=4096; root $dir/www; keepalive_timeout 0; }
		}
	EOF
	nginx -c "$dir/nginx.conf" -p "$dir" > "$dir/stdout.log" 2>&1 &
	qb_track $! nginx
	for _ in $(seq 50); do bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && return 0; sleep 0.1; done
	qb_die "nginx did not start: $(cat "$dir/error.log" "$dir/stdout.log" 2>/dev/null)"
}

# ab_rate < AB-OUTPUT: requests/s of a run in which no request failed; nothing and
# false otherwise (a run with failures measured something else).
ab_rate() {
	local out rps failed
	out=$(cat)
	rps=$(sed -n 's/^Requests per second: *\([0-9.]*\).*/\1/p' <<< "$out")
	failed=$(sed -n 's/^Failed requests: *\([0-9]*\).*/\1/p' <<< "$out")
	[ -n "$rps" ] && [ "$failed" = 0 ] && echo "$rps"
}
