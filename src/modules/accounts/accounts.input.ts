import {
  IsEmail,
  IsOptional,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { ArgsType, Field, InputType, Int } from 'type-graphql';

/** Longest password accepted; checked before hashing so huge inputs cost nothing. */
export const MAX_PASSWORD_LENGTH = 256;
export const MIN_PASSWORD_LENGTH = 10;

@InputType()
export class RegisterInput {
  @Field()
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(254)
  email: string;

  @Field({ description: '3-64 characters: letters, digits, _ . -; starts with a letter or digit' })
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_.-]{2,63}$/, {
    message:
      'username must be 3-64 letters, digits, "_", "." or "-", starting with a letter or digit',
  })
  username: string;

  @Field({ description: `${MIN_PASSWORD_LENGTH}-${MAX_PASSWORD_LENGTH} characters` })
  @MinLength(MIN_PASSWORD_LENGTH)
  @MaxLength(MAX_PASSWORD_LENGTH)
  password: string;
}

@InputType()
export class LoginInput {
  @Field({ description: 'Email or username (case-insensitive)' })
  @Length(1, 254)
  login: string;

  @Field()
  @Length(1, MAX_PASSWORD_LENGTH)
  password: string;
}

@InputType()
export class CreateApiKeyInput {
  @Field()
  @Length(1, 100)
  name: string;

  @Field(() => Int, {
    nullable: true,
    description: 'Days until the key stops working (default: never)',
  })
  @IsOptional()
  @Min(1)
  @Max(3650)
  expiresInDays?: number;
}

@ArgsType()
export class UsersArgs {
  @Field(() => Int, { defaultValue: 50, description: '1-100' })
  @Min(1)
  @Max(100)
  first: number;

  @Field(() => String, { nullable: true })
  @IsOptional()
  after?: string;

  @Field(() => String, { nullable: true, description: 'Substring of email or username' })
  @IsOptional()
  @MaxLength(100)
  search?: string;
}
