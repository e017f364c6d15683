import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { z } from "zod";

export { defaultCountries } from "./countries";

const e164 = /^\+[1-9]\d{6,14}$/;

/** The number's country (ISO 3166 alpha-2), when it is a valid number written in E.164. */
export function countryOf(phone: string): string | undefined {
  if (!e164.test(phone)) return undefined;
  const parsed = parsePhoneNumberFromString(phone);
  return parsed?.isValid() ? (parsed.country ?? "001") : undefined;
}

/**
 * A phone number in E.164 form (`+34600111222`) that libphonenumber-js finds valid: the one rule
 * for every number Pregón takes (SMS recipients, one-time codes, suppressions, the origination
 * number).
 */
export const Phone = z
  .string()
  .max(16)
  .refine((phone) => countryOf(phone) !== undefined, "must be a valid phone number in E.164 form")
  .meta({ description: "E.164, e.g. +34600111222", example: "+34600111222" });

/**
 * The number without its last 4 digits: numbers of one range share it. SMS pumping walks a
 * range, so one-time codes are limited per prefix too.
 */
export const prefixOf = (phone: string) => phone.slice(0, -4);

/** `+34600111222` → `+34*******222` */
export const maskPhone = (phone: string) =>
  `${phone.slice(0, 3)}${"*".repeat(Math.max(0, phone.length - 6))}${phone.slice(-3)}`;
