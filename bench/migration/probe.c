/* probe ADDR STOPFILE MAX_S - the guest-observed downtime of a live migration, from outside.
 *
 * Sends an ICMP echo request to ADDR (IPv4) every 5 ms and timestamps each reply with
 * CLOCK_MONOTONIC. The guest's kernel answers echo requests itself, so a reply exists exactly
 * while the guest's vCPU runs and its NIC is reachable: the longest interval between two
 * consecutive replies is the downtime the guest's peers see (its resolution is the 5 ms period).
 * Stops when STOPFILE exists (checked every period) or after MAX_S seconds, and prints one line:
 *   sent=N received=M first_ms=T maxgap_ms=G gap_at_ms=A gaps_over_20ms=K gaps=G1,G2,G3 tail_ms=S
 * (times in ms from the start; gaps= the three longest; tail_ms: from the last reply to the stop,
 * large if the guest never answered again). Exit 0 if any reply came, else 1.
 * Needs CAP_NET_RAW (a raw ICMP socket; bench/migration/run.sh runs it as root in the lab's
 * switch namespace, the only place it reaches the guest). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PERIOD_NS 5000000LL

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static uint16_t checksum(const void *data, size_t len) {
  const uint8_t *p = data;
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (len & 1) sum += (uint32_t)(p[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons((uint16_t)~sum);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: probe ADDR STOPFILE MAX_S\n");
    return 2;
  }
  struct sockaddr_in to = {.sin_family = AF_INET};
  if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
    fprintf(stderr, "probe: bad IPv4 address '%s'\n", argv[1]);
    return 2;
  }
  char *end = NULL;
  const long max_s = strtol(argv[3], &end, 10);
  if (!end || *end || max_s <= 0 || max_s > 3600) {
    fprintf(stderr, "probe: MAX_S must be 1..3600\n");
    return 2;
  }
  const int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (fd < 0) {
    perror("probe: socket(SOCK_RAW, IPPROTO_ICMP)");
    return 2;
  }
  const uint16_t ident = (uint16_t)(getpid() & 0xffff);
  const int64_t t0 = now_ns(), deadline = t0 + (int64_t)max_s * 1000000000LL;
  int64_t next_send = t0, last_reply = -1, first_reply = -1;
  int64_t top[3] = {0, 0, 0}, gap_at = 0;
  long sent = 0, received = 0, over20 = 0;
  uint16_t seq = 0;
  for (;;) {
    const int64_t now = now_ns();
    if (now >= deadline) break;
    if (now >= next_send) {
      struct stat st;
      if (stat(argv[2], &st) == 0) break;
      unsigned char pkt[sizeof(struct icmphdr) + 8];
      memset(pkt, 0, sizeof pkt);
      struct icmphdr *h = (struct icmphdr *)pkt;
      h->type = ICMP_ECHO;
      h->un.echo.id = htons(ident);
      h->un.echo.sequence = htons(seq++);
      memcpy(pkt + sizeof *h, &now, sizeof now);
      h->checksum = checksum(pkt, sizeof pkt);
      if (sendto(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)sizeof pkt) sent++;
      /* the next slot on the fixed 5 ms grid; slots missed while descheduled are skipped */
      do next_send += PERIOD_NS; while (next_send <= now);
    }
    int64_t wait_ms = (next_send - now_ns()) / 1000000LL;
    if (wait_ms < 0) wait_ms = 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, (int)wait_ms + 1) <= 0) continue;
    unsigned char buf[1500];
    for (;;) {
      const ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0) break;
      const int64_t at = now_ns();
      if ((size_t)n < sizeof(struct iphdr)) continue;
      const struct iphdr *ip = (const struct iphdr *)buf;
      const size_t hl = (size_t)ip->ihl * 4;
      if ((size_t)n < hl + sizeof(struct icmphdr)) continue;
      const struct icmphdr *r = (const struct icmphdr *)(buf + hl);
      if (r->type != ICMP_ECHOREPLY || ntohs(r->un.echo.id) != ident || ip->saddr != to.sin_addr.s_addr) continue;
      received++;
      if (first_reply < 0) first_reply = at;
      if (last_reply >= 0) {
        const int64_t gap = at - last_reply;
        if (gap > 20000000LL) over20++;
        if (gap > top[0]) {
          top[2] = top[1], top[1] = top[0], top[0] = gap;
          gap_at = last_reply - t0;
        } else if (gap > top[1]) {
          top[2] = top[1], top[1] = gap;
        } else if (gap > top[2]) {
          top[2] = gap;
        }
      }
      last_reply = at;
    }
  }
  const double tail = last_reply < 0 ? -1.0 : (double)(now_ns() - last_reply) / 1e6;
  printf("sent=%ld received=%ld first_ms=%.1f maxgap_ms=%.1f gap_at_ms=%.1f gaps_over_20ms=%ld gaps=%.1f,%.1f,%.1f tail_ms=%.1f\n",
         sent, received, first_reply < 0 ? -1.0 : (double)(first_reply - t0) / 1e6, (double)top[0] / 1e6,
         (double)gap_at / 1e6, over20, (double)top[0] / 1e6, (double)top[1] / 1e6, (double)top[2] / 1e6, tail);
  return received > 0 ? 0 : 1;
}
