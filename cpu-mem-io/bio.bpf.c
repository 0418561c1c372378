// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Block IO: biosnoop, biotop, biolatency.
 *
 * Raw tracepoints, because their first argument is the struct request
 * itself: a request is keyed by its address, which the kernel keeps for the
 * request's whole life (creation, insert, issue, requeue, completion) and
 * reuses only after the request is freed.  Keying by (dev, sector) instead
 * would mix up a request with one that was merged into it or requeued at the
 * same sector.
 *
 *   block_io_start   request made from a bio, in the submitter's context:
 *                    PID/COMM and creation time are taken here
 *   block_rq_insert  same, for requests that skip io_start (passthrough)
 *   block_rq_issue   handed to the driver: latency starts (again after a requeue)
 *   block_rq_requeue back to the queue: the next issue restarts the clock
 *   block_rq_merge   the request is merged into another and freed uncompleted
 *   block_rq_complete
 *                    done; a partial completion (nr_bytes < remaining bytes)
 *                    keeps the request alive, the final one reports it
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "io.h"
#include "rb.h"

const volatile __u32 targ_mode = PS_BIO_SNOOP;
const volatile __u32 targ_dev;		/* 0: every disk */
const volatile bool targ_queued;	/* biolatency -Q: from creation, not issue */
const volatile bool targ_per_disk;	/* biolatency -D */
const volatile bool targ_ms;		/* biolatency -m */
const volatile bool targ_lean;		/* plain biolatency: issue time only */

struct req_info {
	__u64 created_ns;	/* 0: not seen created */
	__u64 issued_ns;	/* 0: not (or no longer) issued */
	__u64 sector;
	__u32 bytes;
	__u32 pid;
	__u32 dev;
	__u32 pad;
	char comm[PS_IO_COMM_LEN];
};

/*
 * In-flight requests.  A plain hash (cheaper than LRU on this path): its keys
 * are the kernel's own request structs, preallocated per tag set, so a request
 * freed without a completion we see leaves an entry that the next use of the
 * same request overwrites; the key space does not grow.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct req_info);
} reqs SEC(".maps");

/*
 * Plain biolatency (no -Q) needs nothing but the issue time: an 8-byte value
 * instead of a 56-byte req_info makes the table (and what each IO touches of
 * it) seven times smaller.  Same keys and bound as reqs; user space gives the
 * map a mode does not use one entry.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} issued SEC(".maps");

#define PS_EVENTS_RB_SIZE	(1 << 20)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PS_EVENTS_RB_SIZE);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct ps_biotop_key);
	__type(value, struct ps_biotop_val);
} top SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct ps_biolat_hist);
} hists SEC(".maps");

__u64 lost_events;	/* ring buffer full */
__u64 lost_keys;	/* top or hists map full */

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/*
 * The raw tracepoint's request as a typed kernel pointer: its fields (and
 * the queue's and disk's) are then plain loads, which the JIT guards like
 * probe reads, instead of one bpf_probe_read_kernel() call each (about 25 ns
 * apiece here, 4 of them for a request's disk).
 */
static __always_inline struct request *rq_btf(struct request *rq)
{
	return bpf_rdonly_cast(rq, bpf_core_type_id_kernel(struct request));
}

static __always_inline __u32 rq_dev(struct request *rq)
{
	struct gendisk *disk = rq_btf(rq)->q->disk;

	if (!disk)
		return 0;
	return PS_IO_MKDEV(disk->major, disk->first_minor);
}

static __always_inline void track(struct request *rq, bool only_new)
{
	__u64 key = (__u64)rq;
	struct req_info info = {};

	info.dev = rq_dev(rq);
	if (targ_dev && info.dev != targ_dev)
		return;
	if (only_new && bpf_map_lookup_elem(&reqs, &key))
		return;
	info.created_ns = bpf_ktime_get_ns();
	info.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(info.comm, sizeof(info.comm));
	bpf_map_update_elem(&reqs, &key, &info, BPF_ANY);
}

SEC("raw_tp/block_io_start")
int BPF_PROG(io_start, struct request *rq)
{
	track(rq, false);
	return 0;
}

/* Requeued requests are inserted again from a kworker: keep the first owner. */
SEC("raw_tp/block_rq_insert")
int BPF_PROG(rq_insert, struct request *rq)
{
	track(rq, true);
	return 0;
}

SEC("raw_tp/block_rq_issue")
int BPF_PROG(rq_issue, struct request *rq)
{
	__u64 key = (__u64)rq, now;
	struct req_info *info, fresh = {};
	struct request *r = rq_btf(rq);

	if (targ_lean) {
		if (targ_dev && rq_dev(rq) != targ_dev)
			return 0;
		now = bpf_ktime_get_ns();
		bpf_map_update_elem(&issued, &key, &now, BPF_ANY);
		return 0;
	}
	info = bpf_map_lookup_elem(&reqs, &key);
	now = bpf_ktime_get_ns();
	if (info) {
		info->issued_ns = now;
		if (targ_mode != PS_BIO_LAT) {
			info->sector = r->__sector;
			info->bytes = r->__data_len;
		}
		return 0;
	}
	/*
	 * Created before we attached, or internal (a flush): no submitter.
	 * Plain biolatency always comes here (it loads no io_start): one
	 * update of a filled entry, no lookup after it.
	 */
	fresh.dev = rq_dev(rq);
	if (targ_dev && fresh.dev != targ_dev)
		return 0;
	fresh.issued_ns = now;
	if (targ_mode != PS_BIO_LAT) {
		fresh.sector = r->__sector;
		fresh.bytes = r->__data_len;
	}
	bpf_map_update_elem(&reqs, &key, &fresh, BPF_ANY);
	return 0;
}

SEC("raw_tp/block_rq_requeue")
int BPF_PROG(rq_requeue, struct request *rq)
{
	__u64 key = (__u64)rq;
	struct req_info *info;

	/* The next issue starts the clock again. */
	if (targ_lean) {
		bpf_map_delete_elem(&issued, &key);
		return 0;
	}
	info = bpf_map_lookup_elem(&reqs, &key);
	if (info)
		info->issued_ns = 0;
	return 0;
}

SEC("raw_tp/block_rq_merge")
int BPF_PROG(rq_merge, struct request *rq)
{
	__u64 key = (__u64)rq;

	bpf_map_delete_elem(targ_lean ? (void *)&issued : (void *)&reqs, &key);
	return 0;
}

static __always_inline void account_top(struct req_info *info, __u32 dev, __u32 flags,
					__u64 lat)
{
	struct ps_biotop_key k = {};
	struct ps_biotop_val *v, zero = {};

	k.pid = info->pid;
	k.dev = dev;
	k.write = flags & 1;	/* op_is_write(): odd ops move data out */
	__builtin_memcpy(k.comm, info->comm, sizeof(k.comm));
	v = bpf_map_lookup_elem(&top, &k);
	if (!v) {
		bpf_map_update_elem(&top, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&top, &k);
		if (!v) {
			__sync_fetch_and_add(&lost_keys, 1);
			return;
		}
	}
	__sync_fetch_and_add(&v->ios, 1);
	__sync_fetch_and_add(&v->bytes, info->bytes);
	__sync_fetch_and_add(&v->lat_ns, lat);
}

static __always_inline void account_lat(__u32 dev, __u64 delta)
{
	static const struct ps_biolat_hist zero;
	struct ps_biolat_hist *h;
	__u32 key = targ_per_disk ? dev : 0;
	__u32 slot;

	h = bpf_map_lookup_elem(&hists, &key);
	if (!h) {
		bpf_map_update_elem(&hists, &key, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h) {
			__sync_fetch_and_add(&lost_keys, 1);
			return;
		}
	}
	delta /= targ_ms ? 1000000 : 1000;
	slot = ps_log2_slot(delta);
	if (slot >= PS_LOG2_SLOTS)
		slot = PS_LOG2_SLOTS - 1;
	__sync_fetch_and_add(&h->slots[slot], 1);
}

SEC("raw_tp/block_rq_complete")
int BPF_PROG(rq_complete, struct request *rq, int error, unsigned int nr_bytes)
{
	__u64 key = (__u64)rq, now, lat;
	struct req_info *info;
	struct ps_bio_event *e;
	__u32 dev, flags;
	__u64 *t;

	if (targ_lean) {
		t = bpf_map_lookup_elem(&issued, &key);
		if (!t || nr_bytes < rq_btf(rq)->__data_len)
			return 0;
		now = bpf_ktime_get_ns();
		account_lat(targ_per_disk ? rq_dev(rq) : 0, now - *t);
		bpf_map_delete_elem(&issued, &key);
		return 0;
	}
	info = bpf_map_lookup_elem(&reqs, &key);
	if (!info)
		return 0;
	/* Partial completion: more of this request is still to come. */
	if (nr_bytes < rq_btf(rq)->__data_len)
		return 0;
	if (!info->issued_ns)
		goto out;
	now = bpf_ktime_get_ns();
	lat = now - info->issued_ns;
	dev = info->dev;
	flags = targ_mode != PS_BIO_LAT ? rq_btf(rq)->cmd_flags : 0;

	switch (targ_mode) {
	case PS_BIO_SNOOP:
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e) {
			__sync_fetch_and_add(&lost_events, 1);
			break;
		}
		e->ts_ns = now;
		e->sector = info->sector;
		e->lat_ns = lat;
		e->queue_ns = info->created_ns ? info->issued_ns - info->created_ns : 0;
		e->pid = info->pid;
		e->dev = dev;
		e->bytes = info->bytes;
		e->cmd_flags = flags;
		e->error = error;
		e->pad = 0;
		__builtin_memcpy(e->comm, info->comm, sizeof(e->comm));
		bpf_ringbuf_submit(e, ps_rb_flags(&events, PS_EVENTS_RB_SIZE));
		break;
	case PS_BIO_TOP:
		account_top(info, dev, flags, lat);
		break;
	default:
		if (targ_queued && info->created_ns)
			lat = now - info->created_ns;
		account_lat(dev, lat);
	}
out:
	bpf_map_delete_elem(&reqs, &key);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
