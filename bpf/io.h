/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The kernel/user contract of the IO module (cpu-mem-io/bio.* and
 * cpu-mem-io/filetop.*).  Included by BPF programs (after vmlinux.h) and by
 * user space (after <linux/types.h>): fixed-width types, explicit padding,
 * a size assert beside every struct.
 *
 * Block devices are named by the kernel's internal dev_t, major << 20 | minor
 * (what the block tracepoints print), of the whole disk the request was
 * queued on.
 */
#ifndef PKTSCOPE_IO_H
#define PKTSCOPE_IO_H

#include "log2.h"

#define PS_IO_COMM_LEN		16
#define PS_IO_MINORBITS		20
#define PS_IO_MKDEV(ma, mi)	(((__u32)(ma) << PS_IO_MINORBITS) | (__u32)(mi))

/* What the bio programs feed: set in rodata before load. */
enum ps_bio_mode {
	PS_BIO_SNOOP = 0,	/* one event per completed request, ring buffer */
	PS_BIO_TOP,		/* per (pid, comm, disk, direction) totals */
	PS_BIO_LAT,		/* log2 latency histogram, per disk or overall */
};

/* Request operation, the low byte of cmd_flags (enum req_op). */
enum ps_bio_op {
	PS_BIO_READ = 0,
	PS_BIO_WRITE = 1,
	PS_BIO_FLUSH = 2,
	PS_BIO_DISCARD = 3,
	PS_BIO_SECURE_ERASE = 5,
	PS_BIO_WRITE_ZEROES = 9,
};

/* biosnoop: one completed request. */
struct ps_bio_event {
	__u64 ts_ns;		/* completion, CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 sector;
	__u64 lat_ns;		/* issue to completion */
	__u64 queue_ns;		/* creation (submitter's context) to issue; 0 unknown */
	__u32 pid;		/* submitter's process; 0 when not seen */
	__u32 dev;		/* PS_IO_MKDEV */
	__u32 bytes;		/* request size at issue */
	__u32 cmd_flags;	/* op in the low byte, then REQ_* flags */
	__s32 error;		/* blk_status_t at completion, 0 ok */
	__u32 pad;
	char comm[PS_IO_COMM_LEN];
};
_Static_assert(sizeof(struct ps_bio_event) == 72, "ps_bio_event layout");

/* biotop: key and value of the totals hash. */
struct ps_biotop_key {
	__u32 pid;
	__u32 dev;
	__u8 write;		/* 1: write-like op (write, discard, zeroes), 0: read or other */
	__u8 pad[7];
	char comm[PS_IO_COMM_LEN];
};
_Static_assert(sizeof(struct ps_biotop_key) == 32, "ps_biotop_key layout");

struct ps_biotop_val {
	__u64 ios;
	__u64 bytes;
	__u64 lat_ns;		/* sum of issue-to-completion times */
};
_Static_assert(sizeof(struct ps_biotop_val) == 24, "ps_biotop_val layout");

/* biolatency: one histogram per key (a dev with -D, else 0). */
struct ps_biolat_hist {
	__u64 slots[PS_LOG2_SLOTS];
};
_Static_assert(sizeof(struct ps_biolat_hist) == 8 * PS_LOG2_SLOTS, "ps_biolat_hist layout");

/*
 * filetop / fileslower.  A path is stored leaf first: NUL-terminated
 * components "name\0parent\0grandparent\0..." up to PS_FILE_PATH_LEN bytes
 * and PS_FILE_DEPTH components; user space reverses and joins them.
 */
#define PS_FILE_PATH_LEN	256
#define PS_FILE_DEPTH		16

/* File types (from the inode mode). */
enum ps_file_type {
	PS_FT_REG = 0,		/* 'R' regular file */
	PS_FT_SOCK = 1,		/* 'S' socket */
	PS_FT_OTHER = 2,	/* 'O' pipe, char device, anon inode, ... */
};

/* path_flags */
#define PS_PATH_ROOT	1	/* the walk reached the root of the mount tree: absolute path */

struct ps_filetop_key {
	__u32 pid;
	__u32 dev;		/* s_dev of the file's superblock */
	__u64 ino;
};
_Static_assert(sizeof(struct ps_filetop_key) == 16, "ps_filetop_key layout");

struct ps_filetop_val {
	__u64 reads;
	__u64 writes;
	__u64 rbytes;
	__u64 wbytes;
	__u32 tid;		/* thread that made the last call */
	__u8 type;		/* enum ps_file_type */
	__u8 path_flags;
	__u8 pad[2];
	char comm[PS_IO_COMM_LEN];
	char path[PS_FILE_PATH_LEN];
};
_Static_assert(sizeof(struct ps_filetop_val) == 56 + PS_FILE_PATH_LEN, "ps_filetop_val layout");

/* fileslower: one slow read or write. */
struct ps_file_event {
	__u64 ts_ns;		/* syscall exit, CLOCK_MONOTONIC */
	__u64 lat_ns;
	__u64 offset;		/* file position the call read or wrote at */
	__s64 bytes;		/* syscall return value */
	__u32 pid;
	__u32 tid;
	__u8 write;
	__u8 type;
	__u8 path_flags;
	__u8 pad[5];
	char comm[PS_IO_COMM_LEN];
	char path[PS_FILE_PATH_LEN];
};
_Static_assert(sizeof(struct ps_file_event) == 64 + PS_FILE_PATH_LEN, "ps_file_event layout");

#endif /* PKTSCOPE_IO_H */
