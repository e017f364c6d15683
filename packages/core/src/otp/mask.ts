import { maskPhone } from "../phone";

/** `ana@example.com` → `a***@example.com`; `+34600111222` → `+34******222` */
export function mask(address: string): string {
  if (address.startsWith("+")) return maskPhone(address);
  const at = address.lastIndexOf("@");
  return `${address.slice(0, 1)}***${address.slice(at)}`;
}
