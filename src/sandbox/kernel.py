# The code interpreter's kernel: runs inside the bubblewrap sandbox (src/sandbox/), one process per
# session, as `python3 -I -c <this file>`. It runs code cells in one persistent globals dict, as a
# notebook does. Protocol (src/sandbox/frames.ts): frames of a 4-byte big-endian length and a
# payload; a JSON frame is sometimes followed by one raw frame of bytes.
#   fd 0: requests from the host   {"op": "init" | "put" | "exec", ...}
#   fd 3: replies to the host      {"type": "ready" | "put" | "file" | "result", ...}
#   fd 1: the cells' stdout and stderr (one stream); after each cell the host's sentinel marks
#         where that cell's output ends.
# Everything here runs before any user code, but user code shares this process and can change
# anything in it afterwards: the host treats every reply as untrusted.
import ast
import builtins
import fcntl
import json
import linecache
import os
import resource
import signal
import stat
import struct
import sys
import time
import traceback

# Private, close-on-exec copies above the inherited fds (3 is the reply pipe, 4 bwrap's seccomp).
REQ = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 10)
REP = fcntl.fcntl(3, fcntl.F_DUPFD_CLOEXEC, 10)
OUT = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 10)
for fd in (3, 4):
    try:
        os.close(fd)
    except OSError:
        pass
_null = os.open('/dev/null', os.O_RDONLY)
os.dup2(_null, 0)
os.close(_null)
os.dup2(1, 2)
sys.stdout.reconfigure(line_buffering=True, errors='backslashreplace')
sys.stderr.reconfigure(line_buffering=True, errors='backslashreplace')

DATA = '/mnt/data'
MPL_DIR = '/tmp/mpl'
MAX_SCAN_ENTRIES = 10000
MAX_SCAN_DEPTH = 5


def read_exact(n):
    chunks = []
    while n > 0:
        chunk = os.read(REQ, min(n, 1 << 20))
        if not chunk:
            raise EOFError('host closed the pipe')
        chunks.append(chunk)
        n -= len(chunk)
    return b''.join(chunks)


def read_frame():
    (length,) = struct.unpack('>I', read_exact(4))
    return read_exact(length)


def read_message():
    return json.loads(read_frame())


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def send(message, raw=None):
    payload = json.dumps(message).encode()
    write_all(REP, struct.pack('>I', len(payload)) + payload)
    if raw is not None:
        write_all(REP, struct.pack('>I', len(raw)))
        write_all(REP, raw)


def safe_name(name):
    return (
        isinstance(name, str)
        and 0 < len(name) <= 255
        and '/' not in name
        and '\0' not in name
        and name not in ('.', '..')
    )


class CpuLimitExceeded(BaseException):
    pass


settings = {}


def on_sigxcpu(signum, frame):
    # The soft limit goes up to the hard one so that the kernel gets no second signal a second
    # later; the next cell lowers it again.
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
    raise CpuLimitExceeded('CPU time limit of %s s exceeded' % settings.get('cpu_seconds'))


def arm_cpu_limit():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = used + settings['cpu_seconds']
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def init():
    message = read_message()
    settings.update(message)
    nproc = settings['max_processes']
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    signal.signal(signal.SIGXCPU, on_sigxcpu)
    os.makedirs(MPL_DIR, exist_ok=True)
    cache = message.get('cache')
    if cache is not None:
        data = read_frame()
        if safe_name(cache) and cache.startswith('fontlist-') and cache.endswith('.json'):
            with open(os.path.join(MPL_DIR, cache), 'wb') as f:
                f.write(data)
    # Imported once here so that a cell's `import pandas` is instant.
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    plt.show = show
    built = None
    if cache is None:
        for name in os.listdir(MPL_DIR):
            if name.startswith('fontlist-') and name.endswith('.json'):
                with open(os.path.join(MPL_DIR, name), 'rb') as f:
                    built = (name, f.read())
    flush_output()
    write_all(OUT, message['sentinel'].encode())
    if built:
        send({'type': 'ready', 'cache': built[0]}, built[1])
    else:
        send({'type': 'ready', 'cache': None})


figures = {'count': 0, 'names': set()}


def save_figures():
    """Saves every open figure as a PNG in /mnt/data and closes it: figures shown become images."""
    plt = sys.modules.get('matplotlib.pyplot')
    if plt is None:
        return
    for number in list(plt.get_fignums()):
        figure = plt.figure(number)
        figures['count'] += 1
        name = 'figure-%d.png' % figures['count']
        try:
            figure.savefig(os.path.join(DATA, name), format='png')
            figures['names'].add(name)
        except Exception:
            traceback.print_exc()
        finally:
            plt.close(figure)


def show(*args, **kwargs):
    save_figures()


def scan():
    """Regular files under /mnt/data, never through a symlink: relative path -> identity."""
    found = {}
    stack = [(DATA, '', 0)]
    seen = 0
    while stack:
        directory, prefix, depth = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > MAX_SCAN_ENTRIES:
                return found
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            rel = prefix + entry.name
            if stat.S_ISDIR(info.st_mode) and depth < MAX_SCAN_DEPTH:
                stack.append((entry.path, rel + '/', depth + 1))
            elif stat.S_ISREG(info.st_mode):
                found[rel] = (info.st_size, info.st_mtime_ns, info.st_ino)
    return found


snapshot = {}


def read_regular(rel, limit):
    fd = os.open(os.path.join(DATA, rel), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, 'not a regular file'
        if info.st_size > limit:
            return None, 'larger than %d bytes' % limit
        chunks = []
        total = 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                return None, 'larger than %d bytes' % limit
            chunks.append(chunk)
        return b''.join(chunks), None
    finally:
        os.close(fd)


def send_changed_files():
    global snapshot
    current = scan()
    changed = sorted(rel for rel, ident in current.items() if snapshot.get(rel) != ident)
    snapshot = current
    sent = 0
    skipped = []
    for rel in changed:
        if sent >= settings['max_files']:
            skipped.append({'name': rel, 'reason': 'more than %d files' % settings['max_files']})
            continue
        try:
            data, reason = read_regular(rel, settings['max_file_bytes'])
        except (OSError, MemoryError) as error:
            data, reason = None, str(error)
        if data is None:
            skipped.append({'name': rel, 'reason': reason})
            continue
        kind = 'image' if rel in figures['names'] else 'file'
        send({'type': 'file', 'name': rel, 'kind': kind}, data)
        sent += 1
    figures['names'].clear()
    return skipped


user_globals = {'__name__': '__main__', '__builtins__': builtins}


def run_cell(code, number):
    filename = '<cell-%d>' % number
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    tree = ast.parse(code, filename=filename, mode='exec')
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, filename, 'exec'), user_globals)
    if last is not None:
        value = eval(compile(last, filename, 'eval'), user_globals)
        if value is not None:
            user_globals['_'] = value
            print(repr(value))


def print_user_traceback(error):
    tb = error.__traceback__
    # The kernel's own frames come first; a cell's traceback starts at the cell.
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith('<cell-'):
        tb = tb.tb_next
    traceback.print_exception(type(error), error, tb)


KERNEL_PID = os.getpid()


def end_cell_processes():
    """
    Kills every process the cell left behind and reaps them. The sandbox has its own pid
    namespace, so kill(-1) reaches exactly those (never pid 1, bwrap's init, nor the kernel).
    Without it a fork bomb's descendants, which outlive the cell that started them, would burn
    CPU until the session idles out; and zombies count against RLIMIT_NPROC. So, unlike Jupyter,
    a background process does not outlive its cell; threads do.
    """
    # No other live process means none can fork: the usual case costs one look at /proc.
    if not other_processes():
        reap_children()
        return
    # Killed processes take a moment to die, and one may fork meanwhile: done only after a few
    # quiet looks in a row.
    quiet = 0
    for _ in range(500):
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        reap_children()
        quiet = 0 if other_processes() else quiet + 1
        if quiet >= 3:
            return
        time.sleep(0.002)


def other_processes():
    for name in os.listdir('/proc'):
        if not name.isdigit() or int(name) in (1, KERNEL_PID):
            continue
        try:
            with open('/proc/%s/stat' % name) as f:
                if f.read().rsplit(')', 1)[1].split()[0] != 'Z':
                    return True
        except (OSError, IndexError):
            pass
    return False


def reap_children():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def execute(message, number):
    failed = False
    arm_cpu_limit()
    try:
        run_cell(message['code'], number)
    except BaseException as error:
        failed = True
        if os.getpid() != KERNEL_PID:
            os._exit(1)
        try:
            print_user_traceback(error)
        except BaseException:
            print('%s: %s' % (type(error).__name__, error), file=sys.stderr)
    # A process the cell forked that fell out of it must not answer for the kernel.
    if os.getpid() != KERNEL_PID:
        os._exit(0)
    end_cell_processes()
    try:
        save_figures()
    except BaseException:
        traceback.print_exc()
    flush_output()
    write_all(OUT, message['sentinel'].encode())
    skipped = send_changed_files()
    send({'type': 'result', 'error': failed, 'skipped': skipped})


def flush_output():
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except BaseException:
            pass


def put(message):
    data = read_frame()
    name = message.get('name')
    if not safe_name(name):
        send({'type': 'put', 'ok': False, 'error': 'invalid file name'})
        return
    path = os.path.join(DATA, name)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        try:
            write_all(fd, data)
        finally:
            os.close(fd)
        info = os.lstat(path)
        snapshot[name] = (info.st_size, info.st_mtime_ns, info.st_ino)
        send({'type': 'put', 'ok': True})
    except OSError as error:
        send({'type': 'put', 'ok': False, 'error': str(error)})


def main():
    init()
    number = 0
    while True:
        message = read_message()
        if message.get('op') == 'exec':
            number += 1
            execute(message, number)
        elif message.get('op') == 'put':
            put(message)
        else:
            send({'type': 'error', 'error': 'unknown op'})


try:
    main()
except EOFError:
    pass
