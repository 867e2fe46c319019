/*
 * fuzz_main.c
 *		Replay files through the fuzz target without libFuzzer.
 *
 * make check builds fuzz_csv.c with this driver under the same sanitizers
 * as the unit tests and runs the seed corpus through it, so that the fuzz
 * invariants are checked on every run of the unit tests, with or without
 * clang.  Each input is passed in a buffer of exactly its size, so ASan
 * catches any read past the end.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
	{
		FILE	   *f = fopen(argv[i], "rb");
		uint8_t    *buf;
		long		len;

		if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
			fseek(f, 0, SEEK_SET) != 0)
		{
			fprintf(stderr, "fuzz_replay: cannot read %s\n", argv[i]);
			return 1;
		}
		buf = malloc(len > 0 ? (size_t) len : 1);
		if (buf == NULL || fread(buf, 1, (size_t) len, f) != (size_t) len)
		{
			fprintf(stderr, "fuzz_replay: cannot read %s\n", argv[i]);
			return 1;
		}
		fclose(f);
		LLVMFuzzerTestOneInput(buf, (size_t) len);
		free(buf);
	}
	printf("fuzz_replay: %d inputs replayed, all invariants held\n", argc - 1);
	return 0;
}
