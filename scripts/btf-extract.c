/* btf-extract: cut the kernel's BTF blob out of a decompressed kernel image.
 *
 * Usage: btf-extract IMAGE OUT.btf
 *
 * A vmlinux (or raw arm64 Image) carries its .BTF section verbatim; without section
 * headers (Image) the only way to find it is its header: magic 0xEB9F (little-endian,
 * bytes 9f eb), version 1, flags 0, hdr_len 24, then type_off, type_len, str_off, str_len.
 * Every candidate is checked for a self-consistent layout (types before strings, string
 * section NUL-delimited, within the file); the largest valid one is written, so a stray
 * byte pattern cannot win over the real blob. Only little-endian kernels are handled
 * (x86_64 and arm64 are). Built and run by vmlinux/gen-vmlinux.sh; bpftool then checks
 * that the result parses.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s IMAGE OUT.btf\n", argv[0]);
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	if (fseek(f, 0, SEEK_END) || ftell(f) < 0) {
		fprintf(stderr, "btf-extract: cannot size %s\n", argv[1]);
		return 2;
	}
	size_t n = (size_t)ftell(f);
	rewind(f);
	unsigned char *buf = malloc(n ? n : 1);
	if (!buf || fread(buf, 1, n, f) != n) {
		fprintf(stderr, "btf-extract: cannot read %s\n", argv[1]);
		return 2;
	}
	fclose(f);

	size_t best_off = 0, best_len = 0;
	int found = 0;
	for (size_t i = 0; i + 24 <= n; i++) { /* no alignment assumed: cheap enough */
		const unsigned char *p = buf + i;
		if (p[0] != 0x9f || p[1] != 0xeb || p[2] != 1 || p[3] != 0 || le32(p + 4) != 24)
			continue;
		uint64_t type_off = le32(p + 8), type_len = le32(p + 12);
		uint64_t str_off = le32(p + 16), str_len = le32(p + 20);
		uint64_t body = n - i - 24;
		if (type_off != 0 || type_len % 4 || str_off < type_len || str_len == 0 ||
		    str_off + str_len > body)
			continue;
		const unsigned char *s = p + 24 + str_off;
		if (s[0] != 0 || s[str_len - 1] != 0)
			continue; /* string section starts with "" and is NUL-terminated */
		size_t len = 24 + str_off + str_len;
		if (len > best_len) {
			best_off = i;
			best_len = len;
			found = 1;
		}
	}
	if (!found) {
		fprintf(stderr, "btf-extract: no BTF header in %s (kernel built without BTF?)\n", argv[1]);
		return 1;
	}
	FILE *o = fopen(argv[2], "wb");
	if (!o || fwrite(buf + best_off, 1, best_len, o) != best_len || fclose(o)) {
		fprintf(stderr, "btf-extract: cannot write %s\n", argv[2]);
		return 2;
	}
	fprintf(stderr, "btf-extract: BTF at offset %zu, %zu bytes\n", best_off, best_len);
	free(buf);
	return 0;
}
