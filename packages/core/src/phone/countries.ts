/**
 * The countries (ISO 3166 alpha-2) SMS and SMS codes may go to unless the deployment says
 * otherwise: a short list, because SMS pumping sends to expensive destinations. Kept apart from
 * the phone rules, which load libphonenumber's metadata, so the infrastructure code can read it.
 */
export const defaultCountries = ["ES", "MX", "AR", "CO", "CL", "PE", "US", "CA", "GB"];
