from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation import check_for_language


class DefaultLanguageLocaleMiddleware(LocaleMiddleware):
    """Bokmål unless the user chose another language (the language cookie set by set_language).

    The browser's Accept-Language is ignored on purpose: staff on an English-configured machine
    still get the municipality's language until they switch.
    """

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen and check_for_language(chosen) and chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
