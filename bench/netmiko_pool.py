"""The netmiko thread-pool pattern network engineers write: one ConnectHandler per host in a
ThreadPoolExecutor, `show system`, disconnect. A baseline for bench/sikprobe.sh.

    python netmiko_pool.py WORKERS PORT < addresses
Prints one summary line: hosts, ok, failed. Credentials come from SIKPROBE_PASSWORD (default
admin), never argv.
"""
import os
import sys
from concurrent.futures import ThreadPoolExecutor

from netmiko import ConnectHandler


def probe(host, port, password):
    try:
        with ConnectHandler(
            device_type="generic",
            host=host,
            port=port,
            username="admin",
            password=password,
        ) as conn:
            return bool(conn.send_command("show system"))
    except Exception:  # the pattern's usual catch-all: count it as failed and go on
        return False


def main():
    workers, port = int(sys.argv[1]), int(sys.argv[2])
    password = os.environ.get("SIKPROBE_PASSWORD", "admin")
    hosts = [line.strip() for line in sys.stdin if line.strip()]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda h: probe(h, port, password), hosts))
    ok = sum(results)
    print(f"hosts {len(hosts)} ok {ok} failed {len(hosts) - ok}")


if __name__ == "__main__":
    main()
