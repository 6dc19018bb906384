import { z } from 'zod';
import { httpUrl, seconds, secretList, toList } from '../fields.js';

/** Names of the supported provider presets. */
export const PROVIDER_NAMES = [
  'github',
  'gitlab',
  'stripe',
  'shopify',
  'slack',
  'standard_webhooks',
  'svix',
  'twilio',
] as const;

export type ProviderName = (typeof PROVIDER_NAMES)[number];

const tolerance = () => seconds(1, 86_400).default(300);

/** A Standard Webhooks secret: `whsec_` followed by base64 (the prefix is optional). */
function standardSecret() {
  return secretList().refine(
    (value) =>
      toList(value).every((secret) => {
        const encoded = secret.startsWith('whsec_') ? secret.slice(6) : secret;
        return /^[A-Za-z0-9+/]+={0,2}$/.test(encoded) && Buffer.from(encoded, 'base64').length >= 16;
      }),
    { message: 'must be whsec_ followed by the base64 key (at least 16 bytes)' },
  );
}

const githubSchema = z.strictObject({
  name: z.literal('github'),
  /** The webhook secret, or a list for rotation. Required. */
  secret: secretList(),
});

const gitlabSchema = z.strictObject({
  name: z.literal('gitlab'),
  /** The secret token (compared with `X-Gitlab-Token`), or a list for rotation. Required. */
  secret: secretList(),
});

const stripeSchema = z.strictObject({
  name: z.literal('stripe'),
  /** The endpoint signing secret (`whsec_...`), or a list for rotation. Required. */
  secret: secretList(),
  /** Accepted age of the `t=` timestamp in seconds. Default 300 (Stripe's own default). */
  tolerance_seconds: tolerance(),
});

const shopifySchema = z.strictObject({
  name: z.literal('shopify'),
  /** The app's client secret / webhook signing secret, or a list for rotation. Required. */
  secret: secretList(),
});

const slackSchema = z.strictObject({
  name: z.literal('slack'),
  /** The app's signing secret, or a list for rotation. Required. */
  secret: secretList(),
  /** Accepted age of `X-Slack-Request-Timestamp` in seconds. Default 300 (Slack's recommendation). */
  tolerance_seconds: tolerance(),
});

const standardWebhooksSchema = z.strictObject({
  name: z.literal('standard_webhooks'),
  /** `whsec_<base64>` signing secret, or a list for rotation. Required. */
  secret: standardSecret(),
  /** Accepted age of `webhook-timestamp` in seconds. Default 300 (the specification's). */
  tolerance_seconds: tolerance(),
});

const svixSchema = standardWebhooksSchema.extend({ name: z.literal('svix') });

const twilioSchema = z.strictObject({
  name: z.literal('twilio'),
  /** The account Auth Token, or a list for rotation. Required. */
  secret: secretList(),
  /**
   * The public base URL Twilio calls (scheme, host and optional port, e.g. `https://relay.example.com`).
   * Default: the request's protocol and host (after trusted-proxy resolution).
   */
  base_url: httpUrl().optional(),
});

/**
 * `provider`: verifies one provider's exact webhook signature scheme. `name` picks the preset; every
 * preset takes `secret` (a string or a rotation list).
 */
export const providerSchema = z.discriminatedUnion(
  'name',
  [
    githubSchema,
    gitlabSchema,
    stripeSchema,
    shopifySchema,
    slackSchema,
    standardWebhooksSchema,
    svixSchema,
    twilioSchema,
  ],
  {
    error: (issue) => {
      const input = issue.input;
      const missing =
        input === null || typeof input !== 'object' || (input as { name?: unknown }).name === undefined;
      return `${missing ? 'required, one of' : 'must be one of'} ${PROVIDER_NAMES.join(', ')}`;
    },
  },
);

export type ProviderConfig = z.infer<typeof providerSchema>;
export type GithubConfig = z.infer<typeof githubSchema>;
export type GitlabConfig = z.infer<typeof gitlabSchema>;
export type StripeConfig = z.infer<typeof stripeSchema>;
export type ShopifyConfig = z.infer<typeof shopifySchema>;
export type SlackConfig = z.infer<typeof slackSchema>;
export type StandardWebhooksConfig = z.infer<typeof standardWebhooksSchema> | z.infer<typeof svixSchema>;
export type TwilioConfig = z.infer<typeof twilioSchema>;
