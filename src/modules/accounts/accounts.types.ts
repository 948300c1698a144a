import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { PageInfo } from '../../graphql/connection.js';
import type { ApiKey } from './api-key.entity.js';
import type { AuthUser } from './auth-user.js';
import { Role } from './role.js';
import type { User } from './user.entity.js';

registerEnumType(Role, {
  name: 'Role',
  description: 'USER < RESEARCHER < ADMIN; each role has every right of the roles below it',
  valuesConfig: {
    USER: { description: 'Upload datasets and run CPU jobs' },
    RESEARCHER: { description: 'Also GPU jobs and benchmarking' },
    ADMIN: { description: 'Everything, including user administration' },
  },
});

@ObjectType('User')
export class UserType {
  @Field(() => ID)
  id: string;

  @Field()
  email: string;

  @Field()
  username: string;

  @Field(() => Role)
  role: Role;

  @Field()
  isActive: boolean;

  @Field()
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  lastLoginAt: Date | null;

  static from(user: User | AuthUser): UserType {
    return Object.assign(new UserType(), {
      id: user.id,
      email: user.email,
      username: user.username,
      role: user.role,
      isActive: user.isActive,
      createdAt: user.createdAt,
      lastLoginAt: user.lastLoginAt ?? null,
    });
  }
}

@ObjectType({ description: 'Tokens returned by register, login and refreshToken' })
export class AuthPayload {
  @Field({ description: 'Send as `Authorization: Bearer <accessToken>`' })
  accessToken: string;

  @Field()
  accessTokenExpiresAt: Date;

  @Field({ description: 'Single use: exchange with refreshToken for a new pair' })
  refreshToken: string;

  @Field()
  refreshTokenExpiresAt: Date;

  @Field(() => UserType)
  user: UserType;
}

@ObjectType('ApiKey')
export class ApiKeyType {
  @Field(() => ID)
  id: string;

  @Field()
  name: string;

  @Field({ description: 'The first characters of the key, to recognise it' })
  prefix: string;

  @Field()
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  lastUsedAt: Date | null;

  @Field(() => Date, { nullable: true })
  expiresAt: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt: Date | null;

  @Field({ description: 'Not revoked and not expired' })
  active: boolean;

  static from(key: ApiKey): ApiKeyType {
    return Object.assign(new ApiKeyType(), {
      id: key.id,
      name: key.name,
      prefix: key.prefix,
      createdAt: key.createdAt,
      lastUsedAt: key.lastUsedAt ?? null,
      expiresAt: key.expiresAt ?? null,
      revokedAt: key.revokedAt ?? null,
      active: !key.revokedAt && (!key.expiresAt || key.expiresAt > new Date()),
    });
  }
}

@ObjectType()
export class CreatedApiKey {
  @Field(() => ApiKeyType)
  apiKey: ApiKeyType;

  @Field({ description: 'The full key. Shown only once: store it now.' })
  secret: string;
}

@ObjectType()
export class UserEdge {
  @Field()
  cursor: string;

  @Field(() => UserType)
  node: UserType;
}

@ObjectType()
export class UserConnection {
  @Field(() => [UserEdge])
  edges: UserEdge[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;

  @Field(() => Int)
  totalCount: number;
}
