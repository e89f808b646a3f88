#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# `meson install --destdir` of this build, twice, with /etc/dtierd.conf edited
# in between: the second install must keep the edit (conf/install-conf.sh)
# and still refresh the example under the documentation directory.
# Usage: test-install.py MESON BUILDDIR EXAMPLE_CONF
import filecmp
import json
import os
import subprocess
import sys
import tempfile

meson, build, example = sys.argv[1:4]


def install(destdir):
    env = dict(os.environ)
    env.pop('DESTDIR', None)
    p = subprocess.run([meson, 'install', '-C', build, '--no-rebuild', '--destdir', destdir],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    print(p.stdout[-4000:])
    if p.returncode != 0:
        sys.exit(f'FAIL: meson install exited {p.returncode}')


def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what)
    if not cond:
        check.failed = True


check.failed = False

with open(os.path.join(build, 'meson-info', 'intro-buildoptions.json')) as f:
    opts = {o['name']: o['value'] for o in json.load(f)}
prefix = opts['prefix']
etc_conf = os.path.join(prefix, opts['sysconfdir'], 'dtierd.conf')
doc_conf = os.path.join(prefix, opts['datadir'], 'doc', 'dtierd', 'examples', 'dtierd.conf')

with tempfile.TemporaryDirectory(prefix='dtierd-install-') as dest:
    def d(path):
        return os.path.join(dest, path.lstrip('/'))

    install(dest)
    check(os.path.isfile(d(etc_conf)) and filecmp.cmp(d(etc_conf), example, shallow=False),
          f'first install: {etc_conf} is the example')
    check(os.stat(d(etc_conf)).st_mode & 0o777 == 0o644, f'{etc_conf} has mode 0644')
    check(os.path.isfile(d(doc_conf)) and filecmp.cmp(d(doc_conf), example, shallow=False),
          f'first install: {doc_conf} is the example')

    edited = '# edited by the operator\n' + open(example).read().replace(
        'hot_share_bp = 6000', 'hot_share_bp = 7000')
    with open(d(etc_conf), 'w') as f:
        f.write(edited)
    os.remove(d(doc_conf))

    install(dest)
    check(open(d(etc_conf)).read() == edited, f'second install: the edited {etc_conf} is kept')
    check(os.path.isfile(d(doc_conf)), f'second install: {doc_conf} is installed again')

    installed = sorted(os.path.relpath(os.path.join(r, f), dest)
                       for r, _, fs in os.walk(dest) for f in fs)
    print('installed:\n  ' + '\n  '.join(installed))
    for name in ('sbin/dtierd', 'systemd/system/dtierd.service', 'systemd/catalog/dtierd.catalog',
                 'man8/dtierd.8', 'man5/dtierd.conf.5', 'bash-completion/completions/dtierd'):
        check(any(p.endswith(name) for p in installed), f'installed: .../{name}')

sys.exit(1 if check.failed else 0)
