import { Arg, Args, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../../context.js';
import { CreateApiKeyInput, LoginInput, RegisterInput, UsersArgs } from './accounts.input.js';
import { AccountService } from './accounts.service.js';
import {
  ApiKeyType,
  AuthPayload,
  CreatedApiKey,
  UserConnection,
  UserType,
} from './accounts.types.js';
import { Role } from './role.js';

@Resolver()
export class AccountsResolver {
  @Mutation(() => AuthPayload, { description: 'Create an account (role USER) and sign in' })
  register(@Arg('input') input: RegisterInput, @Ctx() ctx: Context): Promise<AuthPayload> {
    return new AccountService(ctx).register(input);
  }

  @Mutation(() => AuthPayload)
  login(@Arg('input') input: LoginInput, @Ctx() ctx: Context): Promise<AuthPayload> {
    return new AccountService(ctx).login(input);
  }

  @Mutation(() => AuthPayload, {
    description:
      'Exchange a refresh token for a new pair; reusing an old one ends that session family',
  })
  refreshToken(
    @Arg('refreshToken') refreshToken: string,
    @Ctx() ctx: Context,
  ): Promise<AuthPayload> {
    return new AccountService(ctx).refresh(refreshToken);
  }

  @Mutation(() => Boolean, {
    description: 'Revoke the presented access token and the session of the given refresh token',
  })
  logout(
    @Ctx() ctx: Context,
    @Arg('refreshToken', () => String, { nullable: true }) refreshToken?: string | null,
  ): Promise<boolean> {
    return new AccountService(ctx).logout(refreshToken);
  }

  @Query(() => UserType, { description: 'The signed-in user' })
  me(@Ctx() ctx: Context): UserType {
    return new AccountService(ctx).me();
  }

  @Mutation(() => CreatedApiKey, { description: 'The secret is returned only in this response' })
  createApiKey(
    @Arg('input') input: CreateApiKeyInput,
    @Ctx() ctx: Context,
  ): Promise<CreatedApiKey> {
    return new AccountService(ctx).createApiKey(input);
  }

  @Query(() => [ApiKeyType], { description: 'Your API keys (secrets are never shown again)' })
  apiKeys(@Ctx() ctx: Context): Promise<ApiKeyType[]> {
    return new AccountService(ctx).apiKeys();
  }

  @Mutation(() => ApiKeyType)
  revokeApiKey(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<ApiKeyType> {
    return new AccountService(ctx).revokeApiKey(id);
  }

  @Query(() => UserConnection, { description: 'ADMIN: all users, newest first' })
  users(@Args() args: UsersArgs, @Ctx() ctx: Context): Promise<UserConnection> {
    return new AccountService(ctx).users(args);
  }

  @Mutation(() => UserType, { description: 'ADMIN: change a user role' })
  setUserRole(
    @Arg('userId', () => ID) userId: string,
    @Arg('role', () => Role) role: Role,
    @Ctx() ctx: Context,
  ): Promise<UserType> {
    return new AccountService(ctx).setUserRole(userId, role);
  }

  @Mutation(() => UserType, { description: 'ADMIN: block sign-in and revoke sessions and tokens' })
  deactivateUser(@Arg('userId', () => ID) userId: string, @Ctx() ctx: Context): Promise<UserType> {
    return new AccountService(ctx).deactivateUser(userId);
  }
}
