"""Staff sign-in (docs/ACCESS.md): the Cognito user pool, or the bureau's own OIDC issuer.

By default the stack creates a Cognito user pool with one group per district code plus `city` and
`auditor`, no self sign-up, TOTP MFA required, and a public app client for the console
(authorization code + PKCE, no secret), with the hosted UI on a Cognito domain. A season config
whose `staff_sign_in.issuer` is set uses that issuer instead and creates no pool: the authorizer
trusts it, the console signs in there, and the token's `groups_claim` carries the same group names.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, Fn, RemovalPolicy, Stack, Token
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from enrollment.core.config import SeasonConfig
from enrollment.core.resources import SERVICE
from infra.nag import acknowledge

STAFF_GROUPS_ZH = {"city": "市教育局（全市只读、抽查、推进阶段）", "auditor": "审计监督（只读）"}


class StaffSignIn(Construct):
    """`issuer`, `client_id`, `audience`, `groups_claim`, `scopes`: what the authorizer and console read."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: SeasonConfig, console_url: str
    ) -> None:
        super().__init__(scope, construct_id)
        own = config.staff_sign_in
        self.groups_claim = own.groups_claim
        self.scopes = own.scopes
        self.user_pool: cognito.UserPool | None = None
        if own.issuer:
            self.issuer = own.issuer.rstrip("/")
            self.client_id = own.client_id
            self.audience = own.audience or own.client_id
            return
        region = Stack.of(self).region
        if not Token.is_unresolved(region) and region.startswith("cn-"):
            raise ValueError(
                f"Cognito user pools are not offered in {region}: set staff_sign_in.issuer and "
                f"staff_sign_in.client_id in seasons/{config.name}.yaml to the bureau's OIDC issuer "
                "(docs/ACCESS.md)"
            )
        pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"{SERVICE}-{config.name}-staff",
            self_sign_up_enabled=False,  # the bureau creates its staff; nobody signs themselves up
            sign_in_aliases=cognito.SignInAliases(username=True),
            sign_in_case_sensitive=False,
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            account_recovery=cognito.AccountRecovery.NONE,  # the bureau's administrator resets accounts
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.user_pool = pool
        for district in config.districts:
            cognito.CfnUserPoolGroup(
                self,
                f"Group{district.code}",
                user_pool_id=pool.user_pool_id,
                group_name=district.code,
                description=f"{district.name}教育局招生工作人员（仅本区）",
            )
        for name, description in STAFF_GROUPS_ZH.items():
            cognito.CfnUserPoolGroup(
                self,
                f"Group-{name}",
                user_pool_id=pool.user_pool_id,
                group_name=name,
                description=description,
            )
        pool.add_domain(
            "HostedUi",
            cognito_domain=cognito.CognitoDomainOptions(
                domain_prefix=f"{SERVICE}-{config.name}-{Aws.ACCOUNT_ID}"
            ),
        )
        client = pool.add_client(
            "Console",
            user_pool_client_name="staff-console",
            generate_secret=False,  # a browser page keeps no secret: code + PKCE
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.PROFILE],
                callback_urls=[console_url],
                logout_urls=[console_url],
            ),
            prevent_user_existence_errors=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.hours(8),  # a working day
            enable_token_revocation=True,
        )
        self.issuer = Fn.join(
            "", ["https://cognito-idp.", Aws.REGION, ".", Aws.URL_SUFFIX, "/", pool.user_pool_id]
        )
        self.client_id = client.user_pool_client_id
        self.audience = client.user_pool_client_id
        acknowledge(
            pool,
            "AwsSolutions-COG3",
            "Threat protection is on: the Plus feature plan with standard threat protection in full-function "
            "(enforced) mode, the successor of AdvancedSecurityMode ENFORCED.",
        )
