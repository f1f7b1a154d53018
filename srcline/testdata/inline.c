/* Source of the small ELF files gcc_test.go builds: inlined functions two
 * deep, a cold function (.text.unlikely), and functions in .init.text and
 * .exit.text, as a kernel module has them. */
int sink;
static inline __attribute__((always_inline)) int leaf(int x)
{
	sink += x;
	return x * 3 + 1;
}
static inline __attribute__((always_inline)) int mid(int x)
{
	return leaf(x) + leaf(x + 1);
}
__attribute__((cold, noinline)) int cold_path(int x)
{
	sink = mid(x);
	return sink * 7;
}
__attribute__((noinline)) int outer(int x)
{
	if (__builtin_expect(x == 42, 0))
		return cold_path(x) + mid(x * 5);
	return mid(x) + 2;
}
__attribute__((noinline, section(".init.text"))) int init_fn(int x)
{
	return mid(x) - 1;
}
__attribute__((noinline, section(".exit.text"))) int exit_fn(int x)
{
	return leaf(x) * 2;
}
int main(int argc, char **argv)
{
	(void)argv;
	return outer(argc) + init_fn(argc) + exit_fn(argc);
}
