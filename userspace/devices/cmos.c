// SPDX-License-Identifier: GPL-2.0
/*
 * CMOS/RTC (MC146818): index at 0x70 (bit 7 is the NMI mask, ignored),
 * data at 0x71.  The clock reads the host's UTC time in BCD, 24-hour mode.
 * Memory size bytes follow the PC/Bochs/QEMU convention firmware expects:
 *   0x15-0x16  base memory in KiB (640)
 *   0x17-0x18  and 0x30-0x31  memory above 1 MiB in KiB (max 0xFFFF)
 *   0x34-0x35  memory above 16 MiB in 64 KiB blocks (max 0xFFFF)
 *   0x5B-0x5D  memory above 4 GiB in 64 KiB blocks
 */
#include <string.h>
#include <time.h>

#include "devices.h"

#define RTC_SECONDS	0x00
#define RTC_MINUTES	0x02
#define RTC_HOURS	0x04
#define RTC_WEEKDAY	0x06
#define RTC_DAY		0x07
#define RTC_MONTH	0x08
#define RTC_YEAR	0x09
#define RTC_STATUS_A	0x0a
#define RTC_STATUS_B	0x0b
#define RTC_STATUS_C	0x0c
#define RTC_STATUS_D	0x0d
#define RTC_CENTURY	0x32

#define MIB		(1024ULL * 1024)

static void put16(uint8_t *ram, unsigned int idx, uint64_t val)
{
	if (val > 0xffff)
		val = 0xffff;
	ram[idx] = val & 0xff;
	ram[idx + 1] = val >> 8;
}

void cmos_init(struct cmos *c, uint64_t ram_below_4g, uint64_t ram_above_4g)
{
	uint64_t above_1m = ram_below_4g > MIB ? ram_below_4g - MIB : 0;
	uint64_t above_16m = ram_below_4g > 16 * MIB ?
			     ram_below_4g - 16 * MIB : 0;
	uint64_t blocks_4g = ram_above_4g >> 16;

	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->ram[RTC_STATUS_A] = 0x26;	/* 32.768 kHz base, 1024 Hz rate */
	c->ram[RTC_STATUS_B] = 0x02;	/* 24-hour, BCD */
	c->ram[RTC_STATUS_D] = 0x80;	/* battery good */
	put16(c->ram, 0x15, 640);
	put16(c->ram, 0x17, above_1m >> 10);
	put16(c->ram, 0x30, above_1m >> 10);
	put16(c->ram, 0x34, above_16m >> 16);
	c->ram[0x5b] = blocks_4g & 0xff;
	c->ram[0x5c] = (blocks_4g >> 8) & 0xff;
	c->ram[0x5d] = (blocks_4g >> 16) & 0xff;
}

static uint8_t bcd(unsigned int v)
{
	return ((v / 10) << 4) | (v % 10);
}

static uint8_t rtc_time_reg(uint8_t idx)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (idx) {
	case RTC_SECONDS:
		return bcd(tm.tm_sec);
	case RTC_MINUTES:
		return bcd(tm.tm_min);
	case RTC_HOURS:
		return bcd(tm.tm_hour);
	case RTC_WEEKDAY:
		return bcd(tm.tm_wday + 1);
	case RTC_DAY:
		return bcd(tm.tm_mday);
	case RTC_MONTH:
		return bcd(tm.tm_mon + 1);
	case RTC_YEAR:
		return bcd(tm.tm_year % 100);
	default:
		return bcd((tm.tm_year + 1900) / 100);
	}
}

static int is_time_reg(uint8_t idx)
{
	return (idx <= RTC_YEAR && idx != 1 && idx != 3 && idx != 5) ||
	       idx == RTC_CENTURY;
}

static uint64_t cmos_read(void *opaque, uint64_t off, unsigned int size)
{
	struct cmos *c = opaque;
	uint8_t val;

	(void)size;
	if (off == 0)
		return 0xff;	/* the index register is write-only */
	pthread_mutex_lock(&c->lock);
	if (is_time_reg(c->index))
		val = rtc_time_reg(c->index);
	else
		val = c->ram[c->index];
	if (c->index == RTC_STATUS_C)
		c->ram[RTC_STATUS_C] = 0;	/* read clears the flags */
	pthread_mutex_unlock(&c->lock);
	return val;
}

static void cmos_write(void *opaque, uint64_t off, unsigned int size,
		       uint64_t val)
{
	struct cmos *c = opaque;

	(void)size;
	pthread_mutex_lock(&c->lock);
	if (off == 0)
		c->index = val & 0x7f;
	else if (c->index != RTC_STATUS_C && c->index != RTC_STATUS_D &&
		 !is_time_reg(c->index))
		c->ram[c->index] = val;
	pthread_mutex_unlock(&c->lock);
}

static const struct bus_ops cmos_ops = {
	.read = cmos_read,
	.write = cmos_write,
};

int cmos_attach(struct cmos *c, struct bus *pio)
{
	return bus_register(pio, CMOS_INDEX_PORT, 2, "cmos", &cmos_ops, c);
}
