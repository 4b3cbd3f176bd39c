/* Placeholder until the headless tracer lands (replaced by the tracer's entry point). */
#include <stdio.h>

int trace_main(int argc, char **argv);

int trace_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "tracestub trace: not built yet\n");
	return 2;
}
