// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * File IO by syscall: filetop (per process and file totals) and fileslower
 * (reads and writes slower than a threshold).
 *
 * Syscall tracepoints only: at entry the fd is turned into its struct file
 * (current->files->fdt->fd[fd]) and kept per thread with the file's dev and
 * inode; at exit the return value gives the bytes.  The file's name is built
 * here from its dentries, crossing mount points, so that a file is named even
 * after it is closed.
 *
 * Every read and write of every process runs these programs, so the hot path
 * uses plain loads through BTF pointers (the JIT guards them like probe
 * reads, at a fraction of a bpf_probe_read_kernel() call's cost) and task
 * local storage instead of a hash keyed by tid.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "io.h"
#include "rb.h"

#define S_IFMT		00170000
#define S_IFSOCK	0140000
#define S_IFREG		0100000

enum { MODE_TOP = 0, MODE_SLOW = 1 };

const volatile __u32 targ_mode = MODE_TOP;
const volatile __u32 targ_pid;		/* 0: every process */
const volatile bool targ_all;		/* also sockets, pipes, devices */
const volatile __u64 targ_min_ns;	/* fileslower threshold */

struct call {
	struct file *file;	/* NULL: no counted call in flight */
	__u64 ts_ns;		/* fileslower */
	__u64 offset;		/* fileslower */
	__u64 ino;		/* filetop */
	__u32 dev;		/* filetop */
	__u8 write;
	__u8 type;
};

/*
 * The call in flight, per thread: found from the task without hashing, and
 * freed with the task.  The slot stays and is marked idle at syscall exit, so
 * that a thread's next call does not allocate again.  Against a tid-keyed
 * hash this saves the update at entry (~40 ns) but costs a little more at the
 * exit of a call that was not counted (~15 ns over a hash miss).
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct call);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, struct ps_filetop_key);
	__type(value, struct ps_filetop_val);
} files SEC(".maps");

#define PS_EVENTS_RB_SIZE	(1 << 20)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PS_EVENTS_RB_SIZE);
} events SEC(".maps");

/*
 * Scratch for path building.  Twice the path length so that a component
 * read at any offset below PS_FILE_PATH_LEN stays inside the buffer, which is
 * what the verifier needs to see.
 */
struct scratch {
	char buf[2 * PS_FILE_PATH_LEN];
	struct ps_filetop_val val;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

__u64 lost_events;

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/*
 * The fd's struct file, NULL when the fd is not open.  fdt->fd is a pointer
 * to pointers, which the verifier (since BPF_FEAT_RDONLY_CAST_TO_VOID) hands
 * out as untrusted read-only memory: fd[fd] is then a plain load too, of a
 * scalar that bpf_rdonly_cast() turns back into a struct file.
 */
static __always_inline struct file *fd_file(struct task_struct *task, __u32 fd)
{
	struct fdtable *fdt = task->files->fdt;
	struct file *f;

	if (!fdt || fd >= fdt->max_fds)
		return NULL;
	f = fdt->fd[fd];
	if (!f)
		return NULL;
	return bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));
}

static __always_inline __u8 file_type(__u16 mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:	return PS_FT_REG;
	case S_IFSOCK:	return PS_FT_SOCK;
	default:	return PS_FT_OTHER;
	}
}

struct walk {
	struct dentry *d;
	struct vfsmount *vfs;
	struct mount *mnt;
	__u32 off;
	int flags;
};

/*
 * One step of the walk from a file up to the root, under bpf_loop() so that
 * the verifier checks it once instead of once per possible depth.  At a
 * mount's root dentry the walk goes on at the mount point in the parent mount.
 */
static long walk_step(__u32 i, void *ctx)
{
	struct walk *w = ctx;
	struct dentry *d = w->d, *parent;
	struct vfsmount *vfs = w->vfs;
	struct mount *mnt = w->mnt, *mparent;
	const unsigned char *name;
	struct scratch *s;
	__u32 zero = 0;
	long len;

	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 1;
	if (d == BPF_CORE_READ(vfs, mnt_root)) {
		mparent = BPF_CORE_READ(mnt, mnt_parent);
		if (mparent == mnt) {
			w->flags = PS_PATH_ROOT;
			return 1;
		}
		w->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = mparent;
		w->vfs = (void *)mparent + bpf_core_field_offset(struct mount, mnt);
		return 0;
	}
	name = BPF_CORE_READ(d, d_name.name);
	len = bpf_probe_read_kernel_str(s->buf + (w->off & (PS_FILE_PATH_LEN - 1)),
					PS_FILE_PATH_LEN, name);
	if (len <= 0)
		return 1;
	w->off += len;
	if (w->off >= PS_FILE_PATH_LEN)
		return 1;
	parent = BPF_CORE_READ(d, d_parent);
	/* A pseudo file (socket, pipe) is its own parent. */
	if (parent == d)
		return 1;
	w->d = parent;
	return 0;
}

/*
 * The file's path into scratch->buf, leaf first (see io.h); returns
 * PS_PATH_ROOT when the walk reached the root of the mount tree.
 */
static __always_inline int build_path(struct file *f, char *buf)
{
	struct vfsmount *vfs = BPF_CORE_READ(f, f_path.mnt);
	struct walk w = {};

	w.d = BPF_CORE_READ(f, f_path.dentry);
	w.vfs = vfs;
	w.mnt = (void *)vfs - bpf_core_field_offset(struct mount, mnt);
	buf[0] = 0;
	/* Mount crossings take a step each, hence twice the depth. */
	bpf_loop(PS_FILE_DEPTH * 2, walk_step, &w, 0);
	if (w.off < PS_FILE_PATH_LEN)
		buf[w.off & (PS_FILE_PATH_LEN - 1)] = 0;
	return w.flags;
}

static __always_inline int enter(__u32 fd, bool write, __s64 pos)
{
	struct task_struct *task;
	struct inode *inode;
	struct file *f;
	struct call *c;
	__u8 type;

	/* Each helper call counts here, hence no pid_tgid without -p. */
	if (targ_pid && (bpf_get_current_pid_tgid() >> 32) != targ_pid)
		return 0;
	task = bpf_get_current_task_btf();
	f = fd_file(task, fd);
	if (!f)
		return 0;
	inode = f->f_inode;
	type = file_type(inode->i_mode);
	if (type != PS_FT_REG && !targ_all)
		return 0;
	c = bpf_task_storage_get(&calls, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!c)
		return 0;
	c->file = f;
	c->write = write;
	c->type = type;
	/* The files key is read here, where the inode is at hand anyway. */
	if (targ_mode == MODE_TOP) {
		c->dev = inode->i_sb->s_dev;
		c->ino = inode->i_ino;
	} else {
		c->offset = pos >= 0 ? pos : f->f_pos;
		c->ts_ns = bpf_ktime_get_ns();
	}
	return 0;
}

static __always_inline void account(struct call *c, __u64 id, long ret)
{
	struct ps_filetop_key k = {};
	struct ps_filetop_val *v;
	struct scratch *s;
	__u32 zero = 0;

	k.pid = id >> 32;
	k.dev = c->dev;
	k.ino = c->ino;
	v = bpf_map_lookup_elem(&files, &k);
	if (!v) {
		s = bpf_map_lookup_elem(&scratch, &zero);
		if (!s)
			return;
		__builtin_memset(&s->val, 0, sizeof(s->val) - sizeof(s->val.path));
		s->val.type = c->type;
		bpf_get_current_comm(s->val.comm, sizeof(s->val.comm));
		s->val.path_flags = build_path(c->file, s->buf);
		bpf_probe_read_kernel(s->val.path, sizeof(s->val.path), s->buf);
		bpf_map_update_elem(&files, &k, &s->val, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&files, &k);
		if (!v)
			return;
	}
	v->tid = (__u32)id;
	if (c->write) {
		__sync_fetch_and_add(&v->writes, 1);
		__sync_fetch_and_add(&v->wbytes, ret);
	} else {
		__sync_fetch_and_add(&v->reads, 1);
		__sync_fetch_and_add(&v->rbytes, ret);
	}
}

static __always_inline void report_slow(struct call *c, __u64 id, long ret, __u64 now)
{
	struct ps_file_event *e;
	struct scratch *s;
	__u32 zero = 0;

	if (now - c->ts_ns < targ_min_ns)
		return;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&lost_events, 1);
		return;
	}
	e->ts_ns = now;
	e->lat_ns = now - c->ts_ns;
	e->offset = c->offset;
	e->bytes = ret;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->write = c->write;
	e->type = c->type;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->path_flags = build_path(c->file, s->buf);
	bpf_probe_read_kernel(e->path, sizeof(e->path), s->buf);
	bpf_ringbuf_submit(e, ps_rb_flags(&events, PS_EVENTS_RB_SIZE));
}

static __always_inline int leave(long ret)
{
	struct call *c = bpf_task_storage_get(&calls, bpf_get_current_task_btf(), 0, 0);
	__u64 id;

	if (!c || !c->file)
		return 0;
	id = bpf_get_current_pid_tgid();
	/* Failed calls (EAGAIN, EINTR, ...) moved no data: not counted. */
	if (ret >= 0) {
		if (targ_mode == MODE_TOP)
			account(c, id, ret);
		else
			report_slow(c, id, ret, bpf_ktime_get_ns());
	}
	c->file = NULL;
	return 0;
}

/* fd, then for the positioned forms the offset argument; -1: the file's own position. */
#define SYSCALL_PAIR(name, write, pos)						\
SEC("tracepoint/syscalls/sys_enter_" #name)					\
int enter_##name(struct trace_event_raw_sys_enter *ctx)			\
{										\
	return enter(ctx->args[0], write, pos);					\
}										\
SEC("tracepoint/syscalls/sys_exit_" #name)					\
int exit_##name(struct trace_event_raw_sys_exit *ctx)				\
{										\
	return leave(ctx->ret);							\
}

SYSCALL_PAIR(read, false, -1)
SYSCALL_PAIR(write, true, -1)
SYSCALL_PAIR(readv, false, -1)
SYSCALL_PAIR(writev, true, -1)
SYSCALL_PAIR(pread64, false, (__s64)ctx->args[3])
SYSCALL_PAIR(pwrite64, true, (__s64)ctx->args[3])
/* On 64-bit, pos_l carries the whole offset; the v2 forms take -1 as "current". */
SYSCALL_PAIR(preadv, false, (__s64)ctx->args[3])
SYSCALL_PAIR(pwritev, true, (__s64)ctx->args[3])
SYSCALL_PAIR(preadv2, false, (__s64)ctx->args[3])
SYSCALL_PAIR(pwritev2, true, (__s64)ctx->args[3])

char LICENSE[] SEC("license") = "Dual BSD/GPL";
