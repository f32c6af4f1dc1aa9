/**
 * The credential test's base URL: the credential's Base URL without trailing slashes, so that a
 * pasted "https://api.example.com/v2/" and ".../v2" both join the test's path with one slash.
 */
export const TEST_BASE_URL = '={{$credentials.baseUrl.replace(/\\/+$/, "")}}';
