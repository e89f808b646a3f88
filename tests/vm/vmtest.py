#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Run one dtierd VM scenario: a real Debian kernel under qemu (TCG) with
emulated NUMA nodes and a busybox initramfs, or (--init systemd) a cached
Debian 12 rootfs with systemd as PID 1 plus an appended archive holding this
build's `meson install --destdir`.

Exit status: 0 scenario passed, 1 scenario failed (or a prerequisite is missing
under CI=true), 77 a prerequisite is missing (meson reports "skipped").

The choices, as measured on this project's 2-core build machine: TCG only
(KVM is not usable there), -cpu qemu64,-cx16 (boots both kernel lines
reliably; -cpu max and -cpu EPYC crashed the guest with a double fault in the
slab allocator), oops=panic plus one retry of a guest that never reached
the scenario (the 7.3 kernel oopses early in ~1 boot out of 20), kernels
fetched with apt through a private configuration (tests/vm/README.md).
"""

import argparse
import ctypes
import datetime
import fcntl
import functools
import glob
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

START_MARKER = 'DTIERD-VM-START'
RESULT_MARKER = 'DTIERD-VM-RESULT:'
EXIT_SKIP = 77

KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg'
# Re-resolve the newest patch release at most this often; between resolutions
# (and whenever apt cannot be reached) the cached kernel is used.
RESOLVE_EVERY_S = 24 * 3600

# Debian release names and aliases; used to tell the host's main Debian archive
# from third-party apt sources.
DEBIAN_SUITES = {
    'buster', 'bullseye', 'bookworm', 'trixie', 'forky', 'duke', 'sid',
    'oldoldstable', 'oldstable', 'stable', 'testing', 'unstable', 'experimental',
}

KERNELS = {
    '6.12': {
        'suite': 'bookworm-backports',
        'package_re': r'^linux-image-6\.12\.[0-9]+\S*-cloud-amd64-unsigned$',
        'vmlinuz_glob': 'boot/vmlinuz-*',
    },
    # the LTS line; a signed image (6.19 and later come as linux-binary-*)
    '6.18': {
        'suite': 'trixie-backports',
        'package_re': r'^linux-image-6\.18\.[0-9]+\S*-cloud-amd64$',
        'vmlinuz_glob': 'boot/vmlinuz-*',
    },
    '7.3': {
        'suite': 'trixie-backports',
        'package_re': r'^linux-binary-7\.3\.[0-9]+\S*-cloud-amd64$',
        'vmlinuz_glob': 'usr/lib/modules/*/vmlinuz',
    },
}


class Skip(Exception):
    """A prerequisite is missing: skip (77), or fail under CI=true."""


class Interrupted(Exception):
    pass


_console_mid_line = False


def log(msg):
    global _console_mid_line
    if _console_mid_line:  # the guest's last console line had no newline yet
        sys.stdout.write('\n')
        _console_mid_line = False
    print(f'vmtest: {msg}', flush=True)


# ---------------------------------------------------------------------------
# Kernel fetching

def host_debian_mirror():
    """URI of the host's main Debian archive, read from its apt sources."""
    candidates = []  # (uri, suites, components)

    def add(uri, suites, comps, enabled=True):
        if enabled and uri:
            candidates.append((uri.rstrip('/'), suites, comps))

    for path in sorted(glob.glob('/etc/apt/sources.list.d/*.sources')):
        try:
            text = open(path, encoding='utf-8', errors='replace').read()
        except OSError:
            continue
        for stanza in re.split(r'\n\s*\n', text):
            fields = {}
            key = None
            for line in stanza.splitlines():
                if line.startswith('#') or not line.strip():
                    continue
                if line[0].isspace() and key:
                    fields[key] += ' ' + line.strip()
                    continue
                if ':' in line:
                    key, val = line.split(':', 1)
                    key = key.strip().lower()
                    fields[key] = val.strip()
            if 'deb' not in fields.get('types', '').split():
                continue
            enabled = fields.get('enabled', 'yes').lower() not in ('no', 'false', '0')
            for uri in fields.get('uris', '').split():
                add(uri, fields.get('suites', '').split(),
                    fields.get('components', '').split(), enabled)

    list_files = ['/etc/apt/sources.list'] + sorted(glob.glob('/etc/apt/sources.list.d/*.list'))
    for path in list_files:
        try:
            lines = open(path, encoding='utf-8', errors='replace').read().splitlines()
        except OSError:
            continue
        for line in lines:
            line = line.split('#', 1)[0].strip()
            if not line.startswith('deb '):
                continue
            line = re.sub(r'\[[^\]]*\]', ' ', line[4:])
            parts = line.split()
            if len(parts) >= 3:
                add(parts[0], [parts[1]], parts[2:])

    for uri, suites, comps in candidates:
        if not uri.startswith(('http://', 'https://')):
            continue
        if 'main' not in comps:
            continue
        if uri.endswith('-security') or any(s.endswith('-security') for s in suites):
            continue
        base = {s.split('-', 1)[0] for s in suites}
        if base & DEBIAN_SUITES:
            return uri
    return None


class PrivateApt:
    """apt-get/apt-cache with a private sources list, lists, cache and status;
    the host's apt state is never touched."""

    def __init__(self, root, mirror, suite):
        self.root = root
        self.sources = os.path.join(root, 'vmtest.sources')
        self.lists = os.path.join(root, 'lists')
        self.cache = os.path.join(root, 'cache')
        self.status = os.path.join(root, 'status')
        for d in (os.path.join(self.lists, 'partial'),
                  os.path.join(self.cache, 'archives', 'partial')):
            os.makedirs(d, exist_ok=True)
        if not os.path.exists(self.status):
            open(self.status, 'w').close()
        with open(self.sources, 'w') as f:
            f.write(f'Types: deb\nURIs: {mirror}\nSuites: {suite}\n'
                    f'Components: main\nSigned-By: {KEYRING}\n')

    def opts(self):
        return [
            '-o', f'Dir::Etc::SourceList={self.sources}',
            '-o', 'Dir::Etc::SourceParts=/dev/null',
            '-o', f'Dir::State::Lists={self.lists}',
            '-o', f'Dir::Cache={self.cache}',
            '-o', f'Dir::State::status={self.status}',
            '-o', 'Dir::Etc::Preferences=/dev/null',
            '-o', 'Dir::Etc::PreferencesParts=/dev/null',
            '-o', 'APT::Sandbox::User=root',
            '-o', 'Acquire::Languages=none',
            '-o', 'Debug::NoLocking=true',
        ]

    def run(self, tool, *args, cwd=None, timeout=600):
        cmd = [tool] + self.opts() + list(args)
        p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f'{tool} {" ".join(args)} failed ({p.returncode}):\n'
                               + p.stdout[-2000:])
        return p.stdout


def dpkg_compare(a, b):
    if a == b:
        return 0
    if subprocess.run(['dpkg', '--compare-versions', a, 'gt', b]).returncode == 0:
        return 1
    return -1


def resolve_and_fetch(kernel, cache_dir, cached=None):
    """Fetch the newest matching kernel package; return (vmlinuz path, package, version).
    If it is the cached one (dict with package, version), nothing is downloaded."""
    spec = KERNELS[kernel]
    for tool in ('apt-get', 'apt-cache', 'dpkg', 'dpkg-deb'):
        if not shutil.which(tool):
            raise RuntimeError(f'{tool} not found')
    mirror = host_debian_mirror()
    if not mirror:
        raise RuntimeError('no Debian archive found in /etc/apt/sources.list{,.d/*}')
    apt = PrivateApt(os.path.join(cache_dir, 'apt', spec['suite']), mirror, spec['suite'])
    log(f'apt-get update ({spec["suite"]} from {mirror}, private apt state in {apt.root})')
    update_out = apt.run('apt-get', '-q', 'update')
    update_problems = ' '.join(l.strip() for l in update_out.splitlines()
                               if l.startswith(('W:', 'E:', 'Err:')))

    out = apt.run('apt-cache', 'search', '--names-only', spec['package_re'].replace('\\S*', '.*'))
    names = sorted({line.split(' - ', 1)[0].strip() for line in out.splitlines()
                    if re.match(spec['package_re'], line.split(' - ', 1)[0].strip())})
    if not names:
        raise RuntimeError(f'no package matching {spec["package_re"]} in {spec["suite"]}'
                           + (f' (apt-get update: {update_problems})' if update_problems else ''))
    policy = apt.run('apt-cache', 'policy', *names)
    versions = {}
    current = None
    for line in policy.splitlines():
        m = re.match(r'^(\S+):$', line)
        if m:
            current = m.group(1)
            continue
        m = re.match(r'^\s+Candidate:\s+(\S+)', line)
        if m and current and m.group(1) != '(none)':
            versions[current] = m.group(1)
    if not versions:
        raise RuntimeError(f'no installable candidate among {names}')
    best = max(versions, key=functools.cmp_to_key(
        lambda a, b: dpkg_compare(versions[a], versions[b])))
    version = versions[best]
    log(f'newest {kernel} kernel package: {best} {version} (of {len(versions)} candidates)')

    kdir = os.path.join(cache_dir, 'kernels', kernel)
    if cached and cached.get('package') == best and cached.get('version') == version \
            and os.path.exists(os.path.join(kdir, 'vmlinuz')):
        log(f'kernel {kernel}: cached copy is still the newest')
        return os.path.join(kdir, 'vmlinuz'), best, version
    work = tempfile.mkdtemp(prefix='fetch-', dir=cache_dir)
    try:
        apt.run('apt-get', '-q', 'download', f'{best}={version}', cwd=work, timeout=1800)
        debs = glob.glob(os.path.join(work, '*.deb'))
        if len(debs) != 1:
            raise RuntimeError(f'apt-get download produced {debs}')
        tree = os.path.join(work, 'x')
        subprocess.run(['dpkg', '-x', debs[0], tree], check=True)
        found = glob.glob(os.path.join(tree, spec['vmlinuz_glob']))
        if len(found) != 1:
            raise RuntimeError(f'expected one {spec["vmlinuz_glob"]} in {best}, found {found}')
        os.makedirs(kdir, exist_ok=True)
        tmp = os.path.join(kdir, 'vmlinuz.tmp')
        shutil.copyfile(found[0], tmp)
        os.replace(tmp, os.path.join(kdir, 'vmlinuz'))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return os.path.join(kdir, 'vmlinuz'), best, version


def get_kernel(kernel, cache_dir):
    """Return the path of the cached vmlinuz, refreshing it at most once a day."""
    os.makedirs(cache_dir, exist_ok=True)
    kdir = os.path.join(cache_dir, 'kernels', kernel)
    meta_path = os.path.join(kdir, 'meta.json')
    vmlinuz = os.path.join(kdir, 'vmlinuz')
    with open(os.path.join(cache_dir, 'lock'), 'w') as lockf:
        t0 = time.monotonic()
        fcntl.flock(lockf, fcntl.LOCK_EX)
        if time.monotonic() - t0 > 1:
            log(f'waited {time.monotonic() - t0:.0f}s for the cache lock')
        meta = {}
        try:
            with open(meta_path) as f:
                meta = json.load(f)
        except (OSError, ValueError):
            pass
        have = os.path.exists(vmlinuz) and meta.get('package')
        if have and time.time() - meta.get('resolved_at', 0) < RESOLVE_EVERY_S:
            log(f'kernel {kernel}: cached {meta["package"]} {meta["version"]} ({vmlinuz})')
            return vmlinuz, meta
        try:
            path, pkg, ver = resolve_and_fetch(kernel, cache_dir, meta if have else None)
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            if have:
                log(f'kernel {kernel}: could not re-resolve ({str(e).strip()}); '
                    f'using cached {meta["package"]} {meta["version"]}')
                return vmlinuz, meta
            raise Skip(f'cannot fetch the {kernel} kernel: {str(e).strip()}')
        meta = {'package': pkg, 'version': ver, 'resolved_at': time.time(),
                'resolved': datetime.datetime.now().isoformat(timespec='seconds')}
        os.makedirs(kdir, exist_ok=True)
        with open(meta_path + '.tmp', 'w') as f:
            json.dump(meta, f, indent=1)
        os.replace(meta_path + '.tmp', meta_path)
        log(f'kernel {kernel}: {pkg} {ver} ({path})')
        return path, meta


# ---------------------------------------------------------------------------
# Initramfs

# The guest's side of the harness contract, the same under both inits: the
# start marker, the scenario, the result marker the harness parses.
RUN_SCENARIO = r'''echo DTIERD-VM-START
cd /tmp
sh /scenario.sh
rc=$?
cd /
if [ "$rc" = 0 ]; then
	echo "DTIERD-VM-RESULT: PASS"
else
	reason=$(head -n 1 /tmp/vmtest-fail-reason 2>/dev/null)
	echo "DTIERD-VM-RESULT: FAIL exit status $rc${reason:+: $reason}"
fi
sync
'''


INIT_SCRIPT = r'''#!/bin/busybox sh
# Generated by tests/vm/vmtest.py: sets up the guest, runs /scenario.sh,
# reports the result on the console and powers off.
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /bin /sbin
/bin/busybox --install -s /bin
/bin/busybox --install -s /sbin
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
exec </dev/console >/dev/console 2>&1
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -w /proc/sys/kernel/numa_balancing ] && echo 0 > /proc/sys/kernel/numa_balancing
set -a
. /etc/vmtest.env
set +a
echo "vmtest: kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpus, numa_balancing=$(cat /proc/sys/kernel/numa_balancing 2>/dev/null)"
''' + RUN_SCENARIO + r'''poweroff -f
'''

MERGED_USR_LINKS = ('bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32')


def ldd_deps(path):
    """Absolute paths of the shared objects (and loader) a binary needs."""
    p = subprocess.run(['ldd', path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0 or 'not a dynamic executable' in p.stdout or 'statically linked' in p.stdout:
        return []
    deps = []
    for line in p.stdout.splitlines():
        line = line.strip()
        if 'not found' in line:
            raise RuntimeError(f'{path}: {line}')
        m = re.match(r'^\S+\s+=>\s+(/\S+)', line) or re.match(r'^(/\S+)', line)
        if m:
            deps.append(m.group(1))
    return deps


def tree_install(tree, src, dest, mode=None):
    """Copy src to tree/dest (following the tree's own merged-/usr links)."""
    target = os.path.join(tree, dest.lstrip('/'))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(src, target)
    os.chmod(target, mode if mode is not None else (os.stat(src).st_mode & 0o7777))


# Static test companions built beside the workload (tests/vm/meson.build):
# shipped into every guest at /usr/bin under their own names.
COMPANIONS = ('dtierd-pfn-audit',)


def companions(workload):
    d = os.path.dirname(os.path.abspath(workload))
    return [os.path.join(d, c) for c in COMPANIONS if os.path.isfile(os.path.join(d, c))]


def install_binary(tree, src, dest):
    tree_install(tree, src, dest)
    for lib in ldd_deps(src):
        tree_install(tree, lib, lib)


def build_initramfs(out_dir, name, args, busybox, env):
    tree = os.path.join(out_dir, name + '.rootfs')
    shutil.rmtree(tree, ignore_errors=True)
    os.makedirs(tree)
    os.chmod(tree, 0o755)
    for d in ('usr/bin', 'usr/sbin', 'usr/lib', 'etc', 'proc', 'sys', 'dev', 'tmp', 'run', 'root'):
        os.makedirs(os.path.join(tree, d), exist_ok=True)
    # Mirror the host's merged-/usr links (Debian 12: /lib -> usr/lib, ...), so that
    # libraries land at the paths ldd reports and the loader finds them.
    for d in MERGED_USR_LINKS:
        host = '/' + d
        if os.path.islink(host):
            link = os.readlink(host)
            os.makedirs(os.path.join(tree, os.path.normpath(os.path.join('/', link)).lstrip('/')),
                        exist_ok=True)
            os.symlink(link, os.path.join(tree, d))
        elif d in ('bin', 'sbin'):
            os.makedirs(os.path.join(tree, d), exist_ok=True)

    install_binary(tree, busybox, '/bin/busybox')
    install_binary(tree, args.workload, '/usr/bin/dtierd-workload')
    for helper in companions(args.workload):
        install_binary(tree, helper, '/usr/bin/' + os.path.basename(helper))
    if args.dtierd:
        install_binary(tree, args.dtierd, '/usr/bin/dtierd')
        # dtierctl is built beside the daemon (build/dtierctl/dtierctl)
        ctl = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(args.dtierd))), 'dtierctl', 'dtierctl')
        if os.path.isfile(ctl):
            install_binary(tree, ctl, '/usr/bin/dtierctl')
    if args.promtool:
        install_binary(tree, args.promtool, '/usr/bin/promtool')
    tree_install(tree, args.scenario, '/scenario.sh', 0o755)
    lib_sh = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'scenarios', 'lib.sh')
    tree_install(tree, lib_sh, '/lib-scenario.sh', 0o644)
    if args.config:
        tree_install(tree, args.config, '/etc/dtierd.conf', 0o644)
    with open(os.path.join(tree, 'init'), 'w') as f:
        f.write(INIT_SCRIPT)
    os.chmod(os.path.join(tree, 'init'), 0o755)
    with open(os.path.join(tree, 'etc', 'vmtest.env'), 'w') as f:
        for k, v in env.items():
            f.write(f"{k}='{v}'\n")

    cpio_path = os.path.join(out_dir, name + '.initramfs.cpio.gz')
    pack_cpio(tree, cpio_path)
    return cpio_path


def pack_cpio(tree, cpio_path, root_owned=True, level=1):
    """find . | cpio -o -H newc | gzip > cpio_path (atomically). root_owned:
    every entry owned by 0:0 in the archive; otherwise the tree's owners."""
    with open(cpio_path + '.tmp', 'wb') as raw:
        find = subprocess.Popen(['find', '.'], cwd=tree, stdout=subprocess.PIPE)
        gz = subprocess.Popen(['gzip', f'-{level}'], stdin=subprocess.PIPE, stdout=raw)
        cp = subprocess.run(['cpio', '-o', '-H', 'newc', '--quiet']
                            + (['-R', '0:0'] if root_owned else []), cwd=tree,
                            stdin=find.stdout, stdout=gz.stdin)
        find.stdout.close()
        gz.stdin.close()
        if find.wait() != 0 or gz.wait() != 0 or cp.returncode != 0:
            raise RuntimeError(f'packing {cpio_path} failed')
    os.replace(cpio_path + '.tmp', cpio_path)


# ---------------------------------------------------------------------------
# systemd tier: a cached Debian root filesystem (debootstrap) with systemd as
# PID 1, plus a small per-test archive appended to it.

# Bump ROOTFS_RECIPE whenever the recipe below changes: a cached rootfs built
# by another recipe is rebuilt.
ROOTFS_RECIPE = 1
ROOTFS_SUITE = 'bookworm'  # the host's release: dtierd is built against its libraries
ROOTFS_INCLUDE = (
    'systemd', 'systemd-sysv', 'dbus',
    'procps',                               # kill, ps, sysctl: as on any Debian system
    'libsystemd0', 'libconfig9', 'libnuma1', 'libinih1',  # dtierd's libraries
)
# No udev in minbase: a unit waiting for a device waits 90 s. The timers only
# add noise to a test boot.
ROOTFS_MASK = (
    'serial-getty@ttyS0.service', 'getty@tty1.service', 'getty.target',
    'apt-daily.timer', 'apt-daily-upgrade.timer', 'dpkg-db-backup.timer',
    'e2scrub_all.timer', 'fstrim.timer', 'systemd-timesyncd.service',
)
ROOTFS_TRIM = ('usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale',
               'usr/share/lintian', 'usr/share/bug', 'var/cache/apt', 'var/lib/apt/lists',
               'var/cache/debconf/templates.dat-old')

RUNNER_SCRIPT = r'''#!/bin/sh
# Generated by tests/vm/vmtest.py (--init systemd): run by vmtest.service once
# systemd reached basic.target; runs /scenario.sh, reports the result on the
# console and powers the guest off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
[ -w /proc/sys/kernel/numa_balancing ] && echo 0 > /proc/sys/kernel/numa_balancing
set -a
. /etc/vmtest.env
set +a
echo "vmtest: kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpus, numa_balancing=$(cat /proc/sys/kernel/numa_balancing 2>/dev/null), $(systemctl --version | head -n 1), pid 1 $(cat /proc/1/comm), up $(cut -d' ' -f1 /proc/uptime) s"
# --install-deb: the package as an operator installs it, then the scenario's
# config in place of the example it ships.
if [ -f /root/vmtest/dtierd.deb ]; then
	if dpkg -i /root/vmtest/dtierd.deb > /root/vmtest/dpkg.log 2>&1; then
		echo "vmtest: dpkg -i dtierd.deb: ok ($(dpkg-query -W -f='${Package} ${Version}' dtierd))"
	else
		echo "vmtest: dpkg -i dtierd.deb failed:"; sed 's/^/  /' /root/vmtest/dpkg.log
	fi
	[ -f /root/vmtest/dtierd.conf ] && cp /root/vmtest/dtierd.conf /etc/dtierd.conf
	systemctl daemon-reload
fi
''' + RUN_SCENARIO + r'''systemctl --no-block poweroff || poweroff -f
sleep 60
poweroff -f
'''

RUNNER_UNIT = '''[Unit]
Description=dtierd VM test (tests/vm/vmtest.py)
After=basic.target systemd-journald.service

[Service]
Type=exec
ExecStart=/bin/sh /vmtest-run.sh
StandardInput=null
StandardOutput=tty
StandardError=inherit
TTYPath=/dev/console
TTYReset=no
TTYVHangup=no

[Install]
WantedBy=multi-user.target
'''


def _mounts_under(path):
    path = os.path.realpath(path)
    found = []
    with open('/proc/self/mountinfo') as f:
        for line in f:
            mp = re.sub(r'\\([0-7]{3})', lambda m: chr(int(m.group(1), 8)), line.split()[4])
            if mp == path or mp.startswith(path + '/'):
                found.append(mp)
    return found


def remove_tree(path):
    """rm -rf PATH, after unmounting whatever a failed debootstrap left mounted
    in it (never descends into a mount)."""
    if not os.path.lexists(path):
        return
    for mp in sorted(_mounts_under(path), key=len, reverse=True):
        subprocess.run(['umount', '-l', mp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    left = _mounts_under(path)
    if left:
        raise RuntimeError(f'{path}: still mounted ({", ".join(left)}); not removing it')
    shutil.rmtree(path, ignore_errors=True)


def build_rootfs(rdir, cache_dir):
    """debootstrap the rootfs, configure and trim it, pack it to
    rdir/rootfs.cpio.gz; return its metadata."""
    debootstrap = shutil.which('debootstrap') or \
        ('/usr/sbin/debootstrap' if os.path.exists('/usr/sbin/debootstrap') else None)
    if not debootstrap:
        raise Skip('debootstrap not found (apt-get install debootstrap)')
    if os.geteuid() != 0:
        raise Skip('building the systemd rootfs needs root (debootstrap); '
                   f'no cached one in {rdir}')
    mirror = host_debian_mirror()
    if not mirror:
        raise Skip('no Debian archive found in /etc/apt/sources.list{,.d/*} for debootstrap')
    os.makedirs(rdir, exist_ok=True)
    for old in glob.glob(os.path.join(rdir, 'build-*')):
        log(f'rootfs: removing an unfinished build {old}')
        remove_tree(old)
    work = tempfile.mkdtemp(prefix='build-', dir=rdir)
    tree = os.path.join(work, 'tree')
    debs = os.path.join(os.path.dirname(rdir), 'debs')
    os.makedirs(debs, exist_ok=True)
    t0 = time.monotonic()
    try:
        cmd = [debootstrap, '--variant=minbase', '--include=' + ','.join(ROOTFS_INCLUDE),
               f'--cache-dir={os.path.abspath(debs)}', ROOTFS_SUITE, tree, mirror]
        log('rootfs: running ' + ' '.join(cmd))
        blog = os.path.join(work, 'debootstrap.out')
        with open(blog, 'w') as out:
            p = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, timeout=1200)
        if p.returncode != 0:
            text = open(blog, errors='replace').read()[-3000:]
            inner = os.path.join(tree, 'debootstrap', 'debootstrap.log')
            if os.path.exists(inner):
                text += '\n--- debootstrap.log:\n' + open(inner, errors='replace').read()[-3000:]
            raise RuntimeError(f'debootstrap failed ({p.returncode}):\n{text}')
        log(f'rootfs: debootstrap took {time.monotonic() - t0:.0f}s')
        for mp in _mounts_under(tree):
            raise RuntimeError(f'debootstrap left {mp} mounted')

        # systemd as the initramfs's /init
        if not os.path.exists(os.path.join(tree, 'usr/lib/systemd/systemd')):
            raise RuntimeError('no usr/lib/systemd/systemd in the rootfs')
        os.symlink('/lib/systemd/systemd', os.path.join(tree, 'init'))
        sysd = os.path.join(tree, 'etc/systemd/system')
        for unit in ROOTFS_MASK:
            link = os.path.join(sysd, unit)
            if os.path.lexists(link):
                os.unlink(link)
            os.symlink('/dev/null', link)
        with open(os.path.join(tree, 'etc/hostname'), 'w') as f:
            f.write('vmtest\n')
        for rel in ROOTFS_TRIM:
            path = os.path.join(tree, rel)
            if os.path.isdir(path) and not os.path.islink(path):
                for entry in os.listdir(path):
                    e = os.path.join(path, entry)
                    if os.path.isdir(e) and not os.path.islink(e):
                        shutil.rmtree(e)
                    else:
                        os.unlink(e)
            elif os.path.lexists(path):
                os.unlink(path)

        links = {d: os.readlink(os.path.join(tree, d)) for d in MERGED_USR_LINKS
                 if os.path.islink(os.path.join(tree, d))}
        pkgs = subprocess.run(['dpkg-query', f'--admindir={tree}/var/lib/dpkg', '-W',
                               '-f', '${Package} ${Version}\n'],
                              stdout=subprocess.PIPE, text=True, check=True).stdout.split('\n')
        versions = dict(l.split(' ', 1) for l in pkgs if ' ' in l)
        files = subprocess.run(['find', '.', '-mindepth', '1'], cwd=tree, stdout=subprocess.PIPE,
                               text=True, check=True).stdout
        size = sum(os.lstat(os.path.join(root, f)).st_size
                   for root, _, fs in os.walk(tree) for f in fs)
        with open(os.path.join(rdir, 'rootfs.files.tmp'), 'w') as f:
            f.write(files)
        os.replace(os.path.join(rdir, 'rootfs.files.tmp'), os.path.join(rdir, 'rootfs.files'))

        t1 = time.monotonic()
        # owners as in the tree (journald, dbus, ... files are not all root's)
        pack_cpio(tree, os.path.join(rdir, 'rootfs.cpio.gz'), root_owned=False, level=6)
        log(f'rootfs: packed {size >> 20} MiB into '
            f'{os.path.getsize(os.path.join(rdir, "rootfs.cpio.gz")) >> 20} MiB '
            f'in {time.monotonic() - t1:.0f}s')
        meta = {
            'recipe': ROOTFS_RECIPE, 'suite': ROOTFS_SUITE, 'mirror': mirror,
            'built': datetime.datetime.now().isoformat(timespec='seconds'),
            'build_seconds': round(time.monotonic() - t0),
            'links': links, 'tree_bytes': size,
            'systemd': versions.get('systemd'), 'libc6': versions.get('libc6'),
            'packages': len(versions),
        }
        with open(os.path.join(rdir, 'meta.json.tmp'), 'w') as f:
            json.dump(meta, f, indent=1)
        os.replace(os.path.join(rdir, 'meta.json.tmp'), os.path.join(rdir, 'meta.json'))
        return meta
    finally:
        remove_tree(work)


def get_rootfs(cache_dir):
    """Path of the cached rootfs.cpio.gz and its metadata; built when missing
    or made by another recipe (ROOTFS_RECIPE)."""
    rdir = os.path.join(cache_dir, 'rootfs', ROOTFS_SUITE)
    os.makedirs(rdir, exist_ok=True)
    cpio = os.path.join(rdir, 'rootfs.cpio.gz')
    with open(os.path.join(cache_dir, 'rootfs', 'lock'), 'w') as lockf:
        t0 = time.monotonic()
        fcntl.flock(lockf, fcntl.LOCK_EX)
        if time.monotonic() - t0 > 1:
            log(f'waited {time.monotonic() - t0:.0f}s for the rootfs lock')
        meta = {}
        try:
            with open(os.path.join(rdir, 'meta.json')) as f:
                meta = json.load(f)
        except (OSError, ValueError):
            pass
        if meta.get('recipe') == ROOTFS_RECIPE and os.path.exists(cpio) \
                and os.path.exists(os.path.join(rdir, 'rootfs.files')):
            log(f'rootfs: cached {ROOTFS_SUITE} (built {meta.get("built")}, systemd '
                f'{meta.get("systemd")}, {os.path.getsize(cpio) >> 20} MiB) {cpio}')
            return cpio, meta
        log(f'rootfs: building {ROOTFS_SUITE} with debootstrap into {rdir}'
            + (f' (cached one is recipe {meta.get("recipe")}, want {ROOTFS_RECIPE})' if meta else ''))
        for f in ('meta.json', 'rootfs.cpio.gz', 'rootfs.files'):
            if os.path.exists(os.path.join(rdir, f)):
                os.unlink(os.path.join(rdir, f))
        try:
            meta = build_rootfs(rdir, cache_dir)
        except (OSError, subprocess.SubprocessError) as e:
            raise RuntimeError(f'building the rootfs failed: {e}')
        return cpio, meta


def _in_rootfs(path, links):
    """PATH as the rootfs stores it (through its merged-/usr links), relative."""
    rel = path.lstrip('/')
    top, _, rest = rel.partition('/')
    if top in links:
        rel = os.path.normpath(os.path.join(links[top].lstrip('/'), rest))
    return rel


def build_overlay(out_dir, name, args, env, rootfs_meta, rootfs_files):
    """The per-test archive appended to the rootfs: `meson install --destdir`
    of the build, the test's files and vmtest.service. Returns (cpio path,
    guest path of dtierd or None)."""
    tree = os.path.join(out_dir, name + '.overlay')
    shutil.rmtree(tree, ignore_errors=True)
    os.makedirs(tree)
    links = rootfs_meta.get('links', {})

    if args.install_deb:
        return build_deb_overlay(tree, out_dir, name, args, env)
    meson = shutil.which('meson')
    if not meson:
        raise Skip('meson not found in PATH (needed for meson install --destdir)')
    cmd = [meson, 'install', '-C', args.install_from, '--no-rebuild', '--destdir', tree]
    log('running: ' + ' '.join(shlex_quote(c) for c in cmd))
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise RuntimeError(f'meson install failed ({p.returncode}):\n{p.stdout[-3000:]}')
    # Merged /usr: the rootfs has bin -> usr/bin, lib -> usr/lib, ...; a real
    # ./lib in the appended archive would replace the link and break every
    # binary. Move such directories' contents below usr/.
    for top, link in links.items():
        src = os.path.join(tree, top)
        if os.path.isdir(src) and not os.path.islink(src):
            dst = os.path.join(tree, _in_rootfs('/' + top, links))
            shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
            shutil.rmtree(src)
    installed = []
    for root, _, fs in os.walk(tree):
        for f in fs:
            rel = os.path.relpath(os.path.join(root, f), tree)
            installed.append(rel)
    log('installed by meson: ' + ', '.join(sorted(installed)))
    dtierd = next((r for r in sorted(installed) if re.search(r'(^|/)s?bin/dtierd$', r)), None)

    # Libraries dtierd needs that the rootfs lacks (ROOTFS_INCLUDE is meant to
    # have them all; this only covers a new dependency until the recipe catches up).
    have = set(l[2:] if l.startswith('./') else l for l in rootfs_files)
    if dtierd:
        for lib in ldd_deps(os.path.join(tree, dtierd)):
            rel = _in_rootfs(lib, links)
            if rel not in have and not os.path.exists(os.path.join(tree, rel)):
                log(f'rootfs lacks {lib}; copying the host\'s into the overlay '
                    f'(add its package to ROOTFS_INCLUDE)')
                tree_install(tree, os.path.realpath(lib), '/' + rel)

    if args.config:
        tree_install(tree, args.config, '/etc/dtierd.conf', 0o644)
    return finish_overlay(tree, out_dir, name, args, env, '/' + dtierd if dtierd else None)


def build_deb_overlay(tree, out_dir, name, args, env):
    """The overlay for a test of the package: the .deb itself, installed by
    the guest with dpkg -i before the scenario (RUNNER_SCRIPT), and the
    scenario's config put in place after it, as an operator would edit it."""
    p = subprocess.run(['dpkg-deb', '-c', args.install_deb], stdout=subprocess.PIPE, text=True)
    if p.returncode != 0 or not re.search(r' \./usr/sbin/dtierd$', p.stdout, re.M):
        raise RuntimeError(f'{args.install_deb} is not a dtierd package with /usr/sbin/dtierd')
    log(f'installing {args.install_deb} in the guest with dpkg -i')
    tree_install(tree, args.install_deb, '/root/vmtest/dtierd.deb', 0o644)
    if args.config:
        tree_install(tree, args.config, '/root/vmtest/dtierd.conf', 0o644)
    return finish_overlay(tree, out_dir, name, args, env, '/usr/sbin/dtierd')


def finish_overlay(tree, out_dir, name, args, env, dtierd):
    """Adds the test's own files and vmtest.service to TREE and packs it."""
    tree_install(tree, args.workload, '/usr/bin/dtierd-workload', 0o755)
    for helper in companions(args.workload):
        tree_install(tree, helper, '/usr/bin/' + os.path.basename(helper), 0o755)
    tree_install(tree, args.scenario, '/scenario.sh', 0o755)
    lib_sh = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'scenarios', 'lib.sh')
    tree_install(tree, lib_sh, '/lib-scenario.sh', 0o644)
    for path, text, mode in (('vmtest-run.sh', RUNNER_SCRIPT, 0o755),
                             ('etc/systemd/system/vmtest.service', RUNNER_UNIT, 0o644)):
        full = os.path.join(tree, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, 'w') as f:
            f.write(text)
        os.chmod(full, mode)
    wants = os.path.join(tree, 'etc/systemd/system/multi-user.target.wants')
    os.makedirs(wants, exist_ok=True)
    os.symlink('/etc/systemd/system/vmtest.service', os.path.join(wants, 'vmtest.service'))
    env = dict(env, DTIERD=dtierd or '', VMTEST_HAVE_DTIERD='1' if dtierd else '0',
               VMTEST_INSTALL='deb' if args.install_deb else 'meson')
    with open(os.path.join(tree, 'etc', 'vmtest.env'), 'w') as f:
        for k, v in env.items():
            f.write(f"{k}='{v}'\n")
    # Directory entries of an appended archive set the mode of the existing
    # directories (the root, /etc, /usr, ...): keep them 0755.
    for root, dirs, _ in os.walk(tree):
        os.chmod(root, 0o755)
    cpio = os.path.join(out_dir, name + '.overlay.cpio.gz')
    pack_cpio(tree, cpio)
    return cpio, dtierd


def shlex_quote(s):
    import shlex
    return shlex.quote(s)


# ---------------------------------------------------------------------------
# Booting

def qemu_cmdline(args, vmlinuz, initrd):
    mib = args.node_mib
    cmd = ['qemu-system-x86_64', '-accel', 'tcg', '-cpu', 'qemu64,-cx16',
           '-m', f'{mib * args.nodes}M', '-smp', '2']
    for n in range(args.nodes):
        cmd += ['-object', f'memory-backend-ram,id=m{n},size={mib}M']
    cmd += ['-numa', 'node,nodeid=0,cpus=0-1,memdev=m0']
    for n in range(1, args.nodes):
        cmd += ['-numa', f'node,nodeid={n},memdev=m{n}']
    append = 'console=ttyS0 quiet panic=-1 oops=panic'
    if args.append:
        append += ' ' + args.append
    cmd += ['-kernel', vmlinuz, '-initrd', initrd, '-append', append,
            '-nographic', '-no-reboot']
    return cmd


def _die_with_parent():
    # Belt and braces: if the harness is SIGKILLed, the kernel kills qemu too.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def kill_group(proc):
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def boot_once(args, vmlinuz, initrd, console_path):
    """Boot the guest once. Returns (outcome, detail) with outcome one of
    'pass', 'fail' (the scenario started), 'nostart' (it never did)."""
    global _console_mid_line
    cmd = qemu_cmdline(args, vmlinuz, initrd)
    log('running: ' + ' '.join(shlex_quote(c) for c in cmd))
    log(f'console log: {console_path}')
    t0 = time.monotonic()
    started = False
    result = None
    proc = None
    with open(console_path, 'wb') as console:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, start_new_session=True,
                                    preexec_fn=_die_with_parent)
            fd = proc.stdout.fileno()
            pending = b''
            deadline_start = t0 + args.boot_timeout
            deadline = t0 + args.timeout
            result_at = None
            while True:
                now = time.monotonic()
                if not started and now > deadline_start:
                    return 'nostart', f'no {START_MARKER} within {args.boot_timeout}s'
                if now > deadline:
                    return ('fail' if started else 'nostart'), f'timeout after {args.timeout}s'
                if result_at is not None and now > result_at + 30:
                    log('guest did not power off within 30s after its result; killing qemu')
                    break
                r, _, _ = select.select([fd], [], [], 1.0)
                if not r:
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                console.write(chunk)
                console.flush()
                sys.stdout.buffer.write(chunk)
                sys.stdout.flush()
                _console_mid_line = not chunk.endswith(b'\n')
                pending += chunk
                lines = pending.split(b'\n')
                pending = lines.pop()
                for raw in lines:
                    line = raw.decode('utf-8', 'replace').strip('\r ')
                    if line == START_MARKER and not started:
                        started = True
                        log(f'scenario started {time.monotonic() - t0:.1f}s after qemu start')
                    elif line.startswith(RESULT_MARKER) and started and result is None:
                        result = line[len(RESULT_MARKER):].strip()
                        result_at = time.monotonic()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        finally:
            kill_group(proc)
            if proc is not None and proc.stdout:
                proc.stdout.close()
    wall = time.monotonic() - t0
    rc = proc.returncode if proc else None
    if result is not None:
        log(f'guest ran {wall:.1f}s (wall); result: {result}')
        return ('pass', result) if result == 'PASS' else ('fail', result)
    if started:
        return 'fail', f'guest ended without a result (qemu exit {rc}, {wall:.1f}s): kernel panic or oops?'
    return 'nostart', f'guest ended before the scenario started (qemu exit {rc}, {wall:.1f}s)'


def scenario_requirements(path):
    """`# vmtest-requires: dtierd [promtool]` lines in the scenario's header."""
    req = set()
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            m = re.match(r'^#\s*vmtest-requires:\s*(.*)$', line)
            if m:
                req.update(m.group(1).split())
    return req


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--kernel', required=True, choices=sorted(KERNELS))
    ap.add_argument('--nodes', type=int, default=2, choices=(2, 3))
    ap.add_argument('--scenario', required=True, help='scenario shell script (runs as /scenario.sh)')
    ap.add_argument('--config', help='dtierd config shipped as /etc/dtierd.conf')
    ap.add_argument('--dtierd', help='dtierd binary (installed as /usr/bin/dtierd)')
    ap.add_argument('--workload', required=True, help='static dtierd-workload binary')
    ap.add_argument('--out', required=True, help='directory for console logs and initramfs')
    ap.add_argument('--name', help='test name used for file names (default: scenario-kernel)')
    ap.add_argument('--timeout', type=int, default=600,
                    help='seconds one boot may take in all (default 600)')
    ap.add_argument('--boot-timeout', type=int, default=180,
                    help='seconds the guest may take to reach the scenario (default 180)')
    ap.add_argument('--node-mib', type=int, default=1024, help='memory per NUMA node (MiB)')
    ap.add_argument('--append', default='', help='extra kernel command line')
    ap.add_argument('--cache-dir', default=os.environ.get('DTIERD_VM_CACHE') or
                    os.path.join(os.path.expanduser('~'), '.cache', 'dtierd-vm'))
    ap.add_argument('--init', choices=('busybox', 'systemd'), default='busybox',
                    help='guest userspace: busybox initramfs (default) or the cached Debian '
                         'rootfs with systemd as PID 1')
    ap.add_argument('--install-deb', metavar='DEB',
                    help='systemd tier: install this dtierd .deb in the guest with dpkg -i '
                         '(instead of `meson install` of --install-from)')
    ap.add_argument('--install-from', metavar='BUILDDIR',
                    help='--init systemd: meson build directory whose `meson install '
                         '--destdir` goes into the guest')
    ap.add_argument('--prepare-only', action='store_true',
                    help='fetch the kernel (and with --init systemd build the rootfs) into '
                         'the cache, then exit')
    args = ap.parse_args()

    ci = os.environ.get('CI', '').lower() == 'true'
    scen_name = os.path.splitext(os.path.basename(args.scenario))[0]
    name = args.name or f'{scen_name}-{args.kernel}'
    os.makedirs(args.out, exist_ok=True)
    t_all = time.monotonic()

    def on_signal(signum, frame):
        raise Interrupted(signal.Signals(signum).name)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    try:
        if not shutil.which('qemu-system-x86_64'):
            raise Skip('qemu-system-x86_64 not found (apt-get install qemu-system-x86)')
        busybox = shutil.which('busybox') or ('/bin/busybox' if os.path.exists('/bin/busybox') else None)
        if not busybox and args.init == 'busybox':
            raise Skip('busybox not found (apt-get install busybox-static)')
        for tool in ('cpio', 'gzip', 'ldd', 'find'):
            if not shutil.which(tool):
                raise Skip(f'{tool} not found')
        if not os.path.isfile(args.workload):
            raise Skip(f'workload binary {args.workload} not found')
        needs = scenario_requirements(args.scenario)
        if args.dtierd and not os.path.isfile(args.dtierd):
            log(f'dtierd binary {args.dtierd} does not exist; not shipping it')
            args.dtierd = None
        if args.init == 'systemd' and args.install_deb:
            if not os.path.isfile(args.install_deb):
                raise Skip(f'{args.install_deb} not found: build the package first '
                           '(meson test -C build --suite deb; tests/run does)')
        elif args.init == 'systemd':
            if not args.install_from or not os.path.isfile(
                    os.path.join(args.install_from, 'meson-info', 'meson-info.json')):
                raise Skip(f'--init systemd needs --install-from BUILDDIR (a meson build '
                           f'directory; got {args.install_from})')
        elif 'dtierd' in needs and not args.dtierd:
            raise Skip('the scenario needs dtierd and no dtierd binary was given (--dtierd)')
        # Prometheus's own checker runs in the guest, on the file dtierd exported there.
        args.promtool = shutil.which('promtool') if 'promtool' in needs else None
        if 'promtool' in needs and not args.promtool:
            raise Skip('the scenario needs promtool (tests/deps.sh installs prometheus)')
        if args.promtool and args.init != 'busybox':
            raise Skip('promtool is shipped into the busybox tier only')
        if args.config and not os.path.isfile(args.config):
            raise Skip(f'config {args.config} not found')

        vmlinuz, meta = get_kernel(args.kernel, args.cache_dir)
        if args.init == 'systemd':
            rootfs, rootfs_meta = get_rootfs(args.cache_dir)
        if args.prepare_only:
            log('cache prepared')
            return 0
        env = {
            'VMTEST_NAME': name,
            'VMTEST_SCENARIO': scen_name,
            'VMTEST_KERNEL': args.kernel,
            'VMTEST_KERNEL_PACKAGE': f'{meta.get("package")} {meta.get("version")}',
            'VMTEST_NODES': str(args.nodes),
            'VMTEST_NODE_MIB': str(args.node_mib),
            'VMTEST_HAVE_DTIERD': '1' if args.dtierd else '0',
            'VMTEST_CONFIG': '/etc/dtierd.conf' if args.config else '',
            'DTIERD': '/usr/bin/dtierd',
            'WORKLOAD': '/usr/bin/dtierd-workload',
            'VMTEST_INIT': args.init,
        }
        if args.init == 'systemd':
            with open(os.path.join(os.path.dirname(rootfs), 'rootfs.files')) as f:
                rootfs_files = f.read().splitlines()
            env['VMTEST_ROOTFS'] = f'debian {rootfs_meta.get("suite")} built {rootfs_meta.get("built")}'
            overlay, dtierd_path = build_overlay(args.out, name, args, env, rootfs_meta, rootfs_files)
            if 'dtierd' in needs and not dtierd_path:
                raise Skip(f'the scenario needs dtierd and `meson install` of {args.install_from} '
                           'installed none')
            # The kernel unpacks concatenated archives in order: the overlay's
            # files land on top of the rootfs.
            initrd = os.path.join(args.out, name + '.initrd')
            with open(initrd + '.tmp', 'wb') as out:
                for part in (rootfs, overlay):
                    with open(part, 'rb') as f:
                        shutil.copyfileobj(f, out, 1 << 20)
            os.replace(initrd + '.tmp', initrd)
            log(f'initrd: {initrd} ({os.path.getsize(initrd) >> 20} MiB: cached rootfs + '
                f'{os.path.getsize(overlay) // 1024} KiB overlay {overlay})')
        else:
            initrd = build_initramfs(args.out, name, args, busybox, env)
            log(f'initramfs: {initrd} ({os.path.getsize(initrd) // 1024} KiB)')

        outcome = detail = None
        logs = []
        for attempt in (1, 2):
            suffix = '' if attempt == 1 else f'.try{attempt}'
            console_path = os.path.join(os.path.abspath(args.out), f'{name}.console.log{suffix}')
            if attempt == 1:
                # leave no stale retry log from an earlier run
                for old in glob.glob(os.path.join(args.out, f'{name}.console.log.try*')):
                    os.unlink(old)
            logs.append(console_path)
            t0 = time.monotonic()
            outcome, detail = boot_once(args, vmlinuz, initrd, console_path)
            log(f'boot {attempt}: {outcome} ({detail}); wall {time.monotonic() - t0:.1f}s')
            if outcome != 'nostart':
                break
            if attempt == 1:
                log(f'RETRY: the guest never reached the scenario ({detail}); '
                    'booting once more (see vm-testing.md: early 7.3 oops under TCG)')
        log('console logs: ' + ', '.join(logs))
        log(f'total wall time {time.monotonic() - t_all:.1f}s')
        if outcome == 'pass':
            log(f'{name}: PASS')
            return 0
        log(f'{name}: FAIL: {detail}')
        return 1
    except Skip as e:
        if ci:
            log(f'{name}: FAIL (CI=true, prerequisite missing): {e}')
            return 1
        log(f'{name}: SKIP: {e}')
        return EXIT_SKIP
    except Interrupted as e:
        log(f'{name}: interrupted by {e}; qemu killed')
        return 1
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        log(f'{name}: FAIL (harness error): {e}')
        return 1


if __name__ == '__main__':
    sys.exit(main())
