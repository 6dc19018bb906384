/**
 * `provider`: one key that selects a provider's exact webhook signature scheme by `name`
 * (`github`, `gitlab`, `stripe`, `shopify`, `slack`, `standard_webhooks`, `svix`, `twilio`). Each preset
 * lives in its own file here and fixes the header names, signed content, encoding and timestamp rules
 * of its provider; all accept a secret list for rotation.
 */
import type { AuthMethod } from '../types.js';
import { createGithub, githubHeaders } from './github.js';
import { createGitlab, gitlabHeaders } from './gitlab.js';
import { providerSchema, type ProviderConfig } from './schema.js';
import { createShopify, shopifyHeaders } from './shopify.js';
import { createSlack, slackHeaders } from './slack.js';
import { createStandardWebhooks, standardWebhooksHeaders } from './standard-webhooks.js';
import { createStripe, stripeHeaders } from './stripe.js';
import { createTwilio, twilioHeaders } from './twilio.js';

export { PROVIDER_NAMES, type ProviderConfig, type ProviderName } from './schema.js';

export const providerMethod: AuthMethod<ProviderConfig> = {
  type: 'provider',
  schema: providerSchema,
  credentialHeaders(config) {
    switch (config.name) {
      case 'github':
        return githubHeaders;
      case 'gitlab':
        return gitlabHeaders;
      case 'stripe':
        return stripeHeaders;
      case 'shopify':
        return shopifyHeaders;
      case 'slack':
        return slackHeaders;
      case 'standard_webhooks':
      case 'svix':
        return standardWebhooksHeaders;
      case 'twilio':
        return twilioHeaders;
    }
  },
  secretFields: ['secret'],
  create(config, context) {
    switch (config.name) {
      case 'github':
        return createGithub(config);
      case 'gitlab':
        return createGitlab(config);
      case 'stripe':
        return createStripe(config, context);
      case 'shopify':
        return createShopify(config);
      case 'slack':
        return createSlack(config, context);
      case 'standard_webhooks':
      case 'svix':
        return createStandardWebhooks(config, context);
      case 'twilio':
        return createTwilio(config);
    }
  },
};
