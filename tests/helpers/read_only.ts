/** Makes a folder read-only for this user: chmod, or the immutable attribute for root (whom modes do not stop). */
export async function makeReadOnly(dir: string): Promise<() => Promise<void>> {
  if (Deno.uid() !== 0) {
    await Deno.chmod(dir, 0o500);
    return () => Deno.chmod(dir, 0o700);
  }
  const chattr = (flag: string) => new Deno.Command("chattr", { args: [flag, dir] }).output();
  if (!(await chattr("+i")).success) throw new Error(`chattr +i ${dir} failed`);
  return async () => void await chattr("-i");
}
